#!/usr/bin/env python3
"""Writes a synthetic WordPress export (WXR) to stdout for the import benchmark.

    bench/make_wxr.py [COMMENTS] [POSTS] > big.xml      defaults: 1000000 comments, 10000 posts

Every word is generated: no real people. Comments are spread over the posts; about a third are
replies (to an earlier comment of the same post), 3% pending, 1% spam, 1% in the trash; some
carry HTML and entities. Deterministic (fixed seed), so runs can be compared.
"""
import random
import sys

WORDS = ("baby sleep feed night week midwife tired question thank you help rest bottle breast "
         "latch nappy cry calm worry normal advice weight growth day hospital visit home").split()


def main():
    comments = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    posts = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rng = random.Random(20261201)
    out = sys.stdout
    w = out.write
    w('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n')
    w("<title>Benchmark</title>\n<link>https://bench.example</link>\n")
    per_post = comments // posts
    next_id = 1
    for post in range(1, posts + 1):
        count = per_post if post < posts else comments - per_post * (posts - 1)
        w(f"<item>\n<title>Benchmark article {post} &amp; friends</title>\n"
          f"<link>https://bench.example/articles/article-{post}/</link>\n"
          f"<wp:post_id>{post}</wp:post_id>\n<wp:post_name>article-{post}</wp:post_name>\n"
          "<wp:post_type>post</wp:post_type>\n")
        first = next_id
        for _ in range(count):
            cid = next_id
            next_id += 1
            parent = rng.randrange(first, cid) if cid > first and rng.random() < 0.33 else 0
            r = rng.random()
            approved = "0" if r < 0.03 else "spam" if r < 0.04 else "trash" if r < 0.05 else "1"
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(8, 60)))
            if rng.random() < 0.2:
                words = f"<p>{words} &amp; more</p><p>See <a href=\"https://nhs.example/x\">this</a></p>"
            day = 1 + cid % 28
            w("<wp:comment>\n"
              f"<wp:comment_id>{cid}</wp:comment_id>\n"
              f"<wp:comment_author><![CDATA[Reader {cid % 5000}]]></wp:comment_author>\n"
              f"<wp:comment_author_email>reader{cid % 5000}@example.com</wp:comment_author_email>\n"
              f"<wp:comment_date_gmt>2024-02-{day:02d} {cid % 24:02d}:{cid % 60:02d}:00</wp:comment_date_gmt>\n"
              f"<wp:comment_content><![CDATA[{words}]]></wp:comment_content>\n"
              f"<wp:comment_approved>{approved}</wp:comment_approved>\n"
              "<wp:comment_type>comment</wp:comment_type>\n"
              f"<wp:comment_parent>{parent}</wp:comment_parent>\n"
              "<wp:comment_user_id>0</wp:comment_user_id>\n"
              "</wp:comment>\n")
        w("</item>\n")
    w("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()

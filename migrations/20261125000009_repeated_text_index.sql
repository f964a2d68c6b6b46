-- "Has this exact text been posted before?" is asked for every new comment: answer it from an
-- index of text hashes rather than by reading every comment.
CREATE INDEX comments_body_md5_idx ON comments (md5(body), created_at);

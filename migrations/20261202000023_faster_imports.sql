-- Imports look up articles by their address (a page imported again, or the same page from another
-- source); without an index each lookup read the whole table.
CREATE INDEX articles_url_idx ON articles (url);

-- "The same text was posted before" looks at readers' new posts, not at imported history, so
-- imported comments (a million in one import) need not be in its index.
DROP INDEX comments_body_md5_idx;
CREATE INDEX comments_body_md5_idx ON comments (md5(body), created_at) WHERE import_source IS NULL;

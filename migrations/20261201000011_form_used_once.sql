-- A shown form stores at most one comment. The stamp's hash is kept with the comment it stored;
-- a later comment sent with the same stamp (a form copied and replayed, by one address or many)
-- goes to the spam tab. The double-submit key (0010) still makes the same form sent twice store
-- nothing new.
ALTER TABLE comments ADD COLUMN stamp_hash bytea;

CREATE INDEX comments_stamp_hash_idx ON comments (stamp_hash) WHERE stamp_hash IS NOT NULL;

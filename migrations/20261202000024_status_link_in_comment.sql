-- A reader's private status link is kept in the comment's own row: posting a comment writes one
-- row and one index fewer, and needs no foreign-key check. Only a hash of the link is kept, as
-- before; a comment without one (a staff reply, an imported or demo comment) has NULL.
ALTER TABLE comments
    ADD COLUMN status_token_hash bytea,
    ADD COLUMN status_link_expires_at timestamptz,
    ADD CONSTRAINT comments_status_link_complete
        CHECK ((status_token_hash IS NULL) = (status_link_expires_at IS NULL));

UPDATE comments c
   SET status_token_hash = l.token_hash, status_link_expires_at = l.expires_at
  FROM status_links l
 WHERE l.comment_id = c.id;

CREATE UNIQUE INDEX comments_status_token_key ON comments (status_token_hash)
    WHERE status_token_hash IS NOT NULL;

DROP TABLE status_links;

-- Shared caches (Varnish, a CDN) keep an article's public thread pages for a few seconds. With
-- CARETHREAD_PURGE_URL set they are also told to drop them as soon as what the pages show
-- changes. Every such change updates the article's row (comments move `comments_version`; admins
-- change its title, address or whether it takes comments), so a trigger there leaves a row here
-- in the same transaction, and a worker in any `serve` process sends the purge and deletes the
-- row (claimed with FOR UPDATE SKIP LOCKED): no request waits on a cache, and no change is lost.
-- One row per article at most: changes made while one waits fold into it (`changed_at` moves).
CREATE TABLE cache_purges (
    article_id bigint      NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cache_purges_pkey PRIMARY KEY (article_id),
    CONSTRAINT cache_purges_article_fkey FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE CASCADE
);

CREATE FUNCTION articles_queue_purge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cache_purges (article_id) VALUES (NEW.id)
        ON CONFLICT ON CONSTRAINT cache_purges_pkey DO UPDATE SET changed_at = now();
    RETURN NULL;
END;
$$;

CREATE TRIGGER articles_queue_purge
    AFTER UPDATE ON articles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION articles_queue_purge();

-- The form stamp is now shared by every reader shown a thread within one window, so
-- `stamp_hash` names one address's use of a form for one reply target (a hash of the stamp, the
-- address's keyed hash, the article and the parent), and `submission_key` includes the address's
-- keyed hash and the article too: two readers sending the same words with the same form are two
-- comments.
COMMENT ON COLUMN comments.stamp_hash IS 'One address''s use of a form for one reply target: at most one comment that is not spam';
COMMENT ON COLUMN comments.submission_key IS 'One submission of a form by one address: the same again stores nothing new';

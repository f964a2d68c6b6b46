-- Comments and articles brought from another system (Drupal, WordPress, Disqus or a carethread
-- export) keep the id they had there, so running the same import again changes nothing.
ALTER TABLE comments
    ADD COLUMN import_source text,
    ADD COLUMN import_id     text,
    -- When the comment was imported: it is history, and never went through triage or mail.
    ADD COLUMN imported_at   timestamptz,
    ADD CONSTRAINT comments_import_complete CHECK ((import_source IS NULL) = (import_id IS NULL));
CREATE UNIQUE INDEX comments_import_key ON comments (import_source, import_id) WHERE import_source IS NOT NULL;

ALTER TABLE articles
    ADD COLUMN import_source text,
    ADD COLUMN import_id     text,
    ADD CONSTRAINT articles_import_complete CHECK ((import_source IS NULL) = (import_id IS NULL));
CREATE UNIQUE INDEX articles_import_key ON articles (import_source, import_id) WHERE import_source IS NOT NULL;

-- An import stores many comments in one statement and moves each article's version once itself;
-- a row at a time would update an article once per imported comment.
CREATE OR REPLACE FUNCTION comments_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Pending and spam comments are invisible to readers: posting one changes nothing they see.
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'published' AND NEW.imported_at IS NULL THEN
            UPDATE articles SET comments_version = comments_version + 1 WHERE id = NEW.article_id;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.status = 'published' THEN
            UPDATE articles SET comments_version = comments_version + 1 WHERE id = OLD.article_id;
        END IF;
    ELSIF OLD.status = 'published' OR NEW.status = 'published' THEN
        UPDATE articles SET comments_version = comments_version + 1 WHERE id = NEW.article_id;
    END IF;
    RETURN NULL;
END;
$$;

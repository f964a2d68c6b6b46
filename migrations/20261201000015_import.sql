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

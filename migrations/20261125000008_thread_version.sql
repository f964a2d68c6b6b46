-- A counter per article that moves whenever what readers see of its comments changes. Every app
-- process reads it with the article and keeps rendered threads only while it is unchanged, so
-- caches in several processes stay coherent without talking to each other.
ALTER TABLE articles ADD COLUMN comments_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION comments_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Pending and spam comments are invisible to readers: posting one changes nothing they see.
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'published' THEN
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

CREATE TRIGGER comments_bump_version
    AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION comments_bump_version();

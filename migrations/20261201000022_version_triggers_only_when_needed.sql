-- A row trigger runs its function, and an AFTER trigger queues an event, for every row it fires on,
-- even one the function then ignores: a guest's comment that waits for moderation, or each of a
-- million imported comments. Fire only on rows that change what readers see; the function is the
-- same.
DROP TRIGGER comments_bump_version ON comments;

CREATE TRIGGER comments_bump_version_on_insert
    AFTER INSERT ON comments
    FOR EACH ROW WHEN (NEW.status = 'published' AND NEW.imported_at IS NULL)
    EXECUTE FUNCTION comments_bump_version();

CREATE TRIGGER comments_bump_version_on_update
    AFTER UPDATE ON comments
    FOR EACH ROW WHEN (OLD.status = 'published' OR NEW.status = 'published')
    EXECUTE FUNCTION comments_bump_version();

CREATE TRIGGER comments_bump_version_on_delete
    AFTER DELETE ON comments
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION comments_bump_version();

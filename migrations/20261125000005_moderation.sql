-- Staff replies and moderation decisions on comments.
ALTER TABLE comments
    ADD COLUMN author_user_id bigint CONSTRAINT comments_author_user_fkey REFERENCES users (id),
    -- Staff replies are written in a small Markdown subset; this is the sanitised HTML made once
    -- at publication. Guests' comments have none: they are always shown as plain text.
    ADD COLUMN body_html     text,
    -- The disclaimer a staff reply was published with, so later changes do not rewrite history.
    ADD COLUMN disclaimer    text,
    ADD COLUMN moderated_by  bigint CONSTRAINT comments_moderated_by_fkey REFERENCES users (id),
    ADD COLUMN moderated_at  timestamptz,
    -- Why a comment was hidden; shown to staff only.
    ADD COLUMN hidden_reason text,
    ADD CONSTRAINT comments_staff_reply_complete CHECK (
        author_kind = 'guest' OR (author_user_id IS NOT NULL AND body_html IS NOT NULL AND disclaimer IS NOT NULL)
    );

-- Every moderation and admin action. Append-only: rows can be added, never changed or removed.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT audit_log_pkey PRIMARY KEY,
    actor_id    bigint      CONSTRAINT audit_log_actor_fkey REFERENCES users (id),
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   bigint,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, at DESC);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Published and hidden tabs of the dashboard, newest first.
CREATE INDEX comments_status_created_idx ON comments (status, created_at DESC, id DESC);

-- Saved replies: short texts that verified midwives and admins reuse in their replies (the
-- helpline's details, a kind opening), inserted into the reply box instead of retyped.
CREATE TABLE saved_replies (
    id         bigint      GENERATED ALWAYS AS IDENTITY CONSTRAINT saved_replies_pkey PRIMARY KEY,
    title      text        NOT NULL,
    body       text        NOT NULL,
    created_by bigint      CONSTRAINT saved_replies_created_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    updated_by bigint      CONSTRAINT saved_replies_updated_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT saved_replies_title_length CHECK (length(title) BETWEEN 1 AND 80),
    CONSTRAINT saved_replies_body_length CHECK (length(body) BETWEEN 1 AND 2000)
);

-- A staff reply corrected after publishing says so to readers ("edited" beside its date).
ALTER TABLE comments ADD COLUMN edited_at timestamptz;

-- A correction's audit entry keeps the text before and after, so what readers were shown is never
-- lost. Only corrections fill these.
ALTER TABLE audit_log
    ADD COLUMN text_before text,
    ADD COLUMN text_after  text;

-- Mail. Every mail is a row in the outbox, written in the same transaction as the event that
-- caused it (a reply published, a comment marked urgent, an invitation), and sent later by a
-- worker in any `serve` process: a request never waits for a mail server, and two processes never
-- send the same row (they claim rows with FOR UPDATE SKIP LOCKED).
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT outbox_pkey PRIMARY KEY,
    -- confirm, reply, urgent, invitation, reset, digest
    kind          text        NOT NULL,
    -- Forgotten (NULL) 30 days after the mail is sent.
    recipient     text,
    subject       text        NOT NULL,
    body_text     text        NOT NULL,
    body_html     text        NOT NULL,
    -- One-click unsubscribe address (RFC 8058), for mails to readers.
    unsubscribe   text,
    status        text        NOT NULL DEFAULT 'queued'
                  CONSTRAINT outbox_status_check CHECK (status IN ('queued', 'sent', 'failed')),
    attempts      integer     NOT NULL DEFAULT 0,
    send_after    timestamptz NOT NULL DEFAULT now(),
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (send_after, id) WHERE status = 'queued';

-- A reader's address, for replies to their comments. Nothing but a confirmation is sent to an
-- address until its owner confirms it: a stranger's address could have been typed in.
CREATE TABLE mail_addresses (
    id                    bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT mail_addresses_pkey PRIMARY KEY,
    email                 text        NOT NULL,
    confirmed_at          timestamptz,
    confirmation_sent_at  timestamptz,
    -- "Stop all mails to this address".
    stopped_at            timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mail_addresses_email_key ON mail_addresses (lower(email));

-- "Email me when someone replies", per comment.
CREATE TABLE subscriptions (
    comment_id  bigint      NOT NULL CONSTRAINT subscriptions_comment_fkey REFERENCES comments (id) ON DELETE CASCADE,
    address_id  bigint      NOT NULL CONSTRAINT subscriptions_address_fkey REFERENCES mail_addresses (id) ON DELETE CASCADE,
    stopped_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_pkey PRIMARY KEY (comment_id, address_id)
);

-- A reply published under a subscribed comment, waiting to go out in the next mail to that
-- address (replies published close together share one mail).
CREATE TABLE reply_notices (
    id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT reply_notices_pkey PRIMARY KEY,
    address_id  bigint      NOT NULL CONSTRAINT reply_notices_address_fkey REFERENCES mail_addresses (id) ON DELETE CASCADE,
    comment_id  bigint      NOT NULL CONSTRAINT reply_notices_comment_fkey REFERENCES comments (id) ON DELETE CASCADE,
    reply_id    bigint      NOT NULL CONSTRAINT reply_notices_reply_fkey REFERENCES comments (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    mailed_at   timestamptz,
    CONSTRAINT reply_notices_once UNIQUE (address_id, reply_id)
);
CREATE INDEX reply_notices_waiting_idx ON reply_notices (address_id, created_at) WHERE mailed_at IS NULL;

-- A reader's private link to their comment and its replies: only a hash of it is kept.
CREATE TABLE status_links (
    comment_id  bigint      NOT NULL CONSTRAINT status_links_pkey PRIMARY KEY
                            CONSTRAINT status_links_comment_fkey REFERENCES comments (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL CONSTRAINT status_links_token_key UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Staff's own choices: a mail when a comment is marked urgent (NULL: the role's default, on for
-- admins and moderators, off for midwives) and a daily summary of the queue.
ALTER TABLE users
    ADD COLUMN urgent_alerts   boolean,
    ADD COLUMN daily_digest    boolean NOT NULL DEFAULT false,
    ADD COLUMN digest_sent_at  timestamptz;

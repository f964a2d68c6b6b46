-- A guest's post in one call: the advisory locks on the poster's address and the article, then
-- the checks and the insert as one statement. A VOLATILE function takes a fresh snapshot for each
-- statement it runs (in READ COMMITTED), so the checks see every post committed before the locks
-- were granted, exactly as when the locks were a separate statement. Called on its own it is its
-- own transaction: the locks are held until it commits, and posting costs the database one round
-- trip instead of three (BEGIN with the locks, the statement, COMMIT). When the post needs more
-- in the same transaction (a reply-mail request, an urgent alert), it is called inside one.
--
-- Parameters, in order: the lock keys (numbers, never text from a request), then what the
-- statement in src/comments/store.rs documents as `Posting` and `PostingLimits`.
CREATE FUNCTION post_guest_comment(
    lock_keys bigint[],
    p_article_id bigint,
    p_client_hash bytea,
    p_body text,
    p_repeat_since timestamptz,
    p_rate_since timestamptz,
    p_seen_since timestamptz,
    p_stamp_hash bytea,
    p_submission_key bytea,
    p_parent_id bigint,
    p_spam_first text,
    p_per_form bigint,
    p_form_reused text,
    p_spam_words text,
    p_seen_before text,
    p_author_name text,
    p_author_email text,
    p_urgent boolean,
    p_urgent_signs text[],
    p_per_address bigint,
    p_per_article bigint,
    p_status_token_hash bytea,
    p_status_link_expires_at timestamptz)
RETURNS TABLE (repeat boolean, by_client bigint, on_article bigint, parent_ok boolean,
               spam_reason text, id bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    key bigint;
BEGIN
    -- Always in one order, so two posts can never wait for each other.
    FOR key IN SELECT DISTINCT k FROM unnest(lock_keys) AS k ORDER BY k LOOP
        PERFORM pg_advisory_xact_lock(key);
    END LOOP;
    RETURN QUERY
    WITH checks AS (
      SELECT
        EXISTS (SELECT 1 FROM comments c WHERE c.client_hash = p_client_hash
                   AND c.created_at > p_repeat_since AND c.article_id = p_article_id
                   AND c.body = p_body) AS repeat,
        (SELECT count(*) FROM comments c WHERE c.client_hash = p_client_hash
                   AND c.created_at > p_rate_since) AS by_client,
        (SELECT count(*) FROM comments c WHERE c.article_id = p_article_id
                   AND c.created_at > p_rate_since AND c.status <> 'spam') AS on_article,
        EXISTS (SELECT 1 FROM comments c WHERE md5(c.body) = md5(p_body)
                   AND c.created_at > p_seen_since AND c.body = p_body
                   AND c.import_source IS NULL) AS seen,
        (SELECT count(*) FROM comments c WHERE c.stamp_hash = p_stamp_hash AND c.status <> 'spam'
                   AND c.submission_key IS DISTINCT FROM p_submission_key) AS form_uses,
        (p_parent_id IS NULL OR EXISTS (
           SELECT 1 FROM comments c WHERE c.id = p_parent_id AND c.article_id = p_article_id
              AND c.status = 'published'
              FOR SHARE)) AS parent_ok
    ), decided AS (
      SELECT checks.*,
             coalesce(p_spam_first,
                      CASE WHEN checks.form_uses >= p_per_form THEN p_form_reused END,
                      p_spam_words,
                      CASE WHEN checks.seen THEN p_seen_before END) AS spam_reason
        FROM checks
    ), stored AS (
      INSERT INTO comments (article_id, parent_id, author_kind, author_name, author_email, body,
                            status, spam_reason, urgent, urgent_signs, client_hash, submission_key,
                            stamp_hash, status_token_hash, status_link_expires_at)
      SELECT p_article_id, p_parent_id, 'guest', p_author_name, p_author_email, p_body,
             CASE WHEN d.spam_reason IS NULL THEN 'pending' ELSE 'spam' END::comment_status,
             d.spam_reason, p_urgent, p_urgent_signs, p_client_hash, p_submission_key,
             p_stamp_hash, p_status_token_hash, p_status_link_expires_at
        FROM decided d
       WHERE NOT d.repeat AND d.by_client < p_per_address AND d.on_article < p_per_article
         AND d.parent_ok
      ON CONFLICT (submission_key) WHERE submission_key IS NOT NULL DO NOTHING
      RETURNING comments.id
    )
    SELECT d.repeat, d.by_client, d.on_article, d.parent_ok, d.spam_reason,
           (SELECT s.id FROM stored s)
      FROM decided d;
END
$$;

-- The admin overview reads the last 12 weeks of questions, staff replies and urgent comments.
-- Without these, each read scans the whole comments table (2.5 s at a million comments; see
-- docs/performance.md). Each is partial and small: questions only, staff replies only, urgent only.

-- Published questions by when they were posted, with what the overview needs, read from the index.
CREATE INDEX comments_questions_posted_idx ON comments (created_at) INCLUDE (id, no_reply_needed_at)
    WHERE status = 'published' AND parent_id IS NULL AND author_kind = 'guest';
-- Published staff replies by when they were written: the first answer to each question.
CREATE INDEX comments_staff_replies_idx ON comments (created_at) INCLUDE (parent_id, published_at)
    WHERE author_kind = 'staff' AND status = 'published' AND parent_id IS NOT NULL;
-- Guests' urgent comments by when they were posted.
CREATE INDEX comments_urgent_posted_idx ON comments (created_at) INCLUDE (id)
    WHERE urgent AND author_kind = 'guest';

//! Laying out a thread: comments arrive in reading order with their real depth; we cap the depth
//! shown and work out where each nested list opens and closes, so templates stay simple.

/// One comment in its place on the page.
#[derive(Debug, Clone)]
pub struct ThreadItem<C> {
    pub comment: C,
    /// 1 for a top-level comment.
    pub level: u32,
    /// Start a new list of replies before this comment.
    pub opens_replies: bool,
    /// Replies follow this comment inside its list item.
    pub has_replies: bool,
    /// How many lists of replies end after this comment.
    pub closes: u32,
    /// Shown shallower than its real depth, so it names the comment it answers.
    pub capped: bool,
}

/// `rows` must be in reading order (each reply after its parent and its parent's earlier replies)
/// with real depths starting at 1. Replies deeper than `max_depth` are shown at `max_depth`, right
/// where they fall in reading order: after the comment they answer.
pub fn layout<C>(rows: Vec<(C, u32)>, max_depth: u32) -> Vec<ThreadItem<C>> {
    let max_depth = max_depth.max(1);
    let levels: Vec<u32> = rows
        .iter()
        .map(|(_, depth)| (*depth).clamp(1, max_depth))
        .collect();
    rows.into_iter()
        .enumerate()
        .map(|(i, (comment, depth))| {
            let level = levels[i];
            let previous = if i == 0 { 1 } else { levels[i - 1] };
            let next = levels.get(i + 1).copied().unwrap_or(1);
            ThreadItem {
                comment,
                level,
                opens_replies: level > previous,
                has_replies: next > level,
                closes: level.saturating_sub(next),
                capped: depth > level,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(rows: &[(&'static str, u32)], max: u32) -> Vec<(&'static str, u32, bool, bool, u32, bool)> {
        layout(rows.to_vec(), max)
            .into_iter()
            .map(|i| {
                (
                    i.comment,
                    i.level,
                    i.opens_replies,
                    i.has_replies,
                    i.closes,
                    i.capped,
                )
            })
            .collect()
    }

    #[test]
    fn replies_nest_under_their_parent_and_lists_close_again() {
        let rows = [("a", 1), ("a1", 2), ("a1x", 3), ("a2", 2), ("b", 1)];
        assert_eq!(
            shape(&rows, 3),
            vec![
                ("a", 1, false, true, 0, false),
                ("a1", 2, true, true, 0, false),
                ("a1x", 3, true, false, 1, false),
                ("a2", 2, false, false, 1, false),
                ("b", 1, false, false, 0, false),
            ]
        );
    }

    #[test]
    fn replies_deeper_than_the_cap_are_shown_at_the_deepest_level_after_their_parent() {
        let rows = [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 3)];
        assert_eq!(
            shape(&rows, 3),
            vec![
                ("a", 1, false, true, 0, false),
                ("b", 2, true, true, 0, false),
                ("c", 3, true, false, 0, false),
                ("d", 3, false, false, 0, true),
                ("e", 3, false, false, 0, true),
                ("f", 3, false, false, 2, false),
            ]
        );
    }

    #[test]
    fn every_opened_list_is_closed() {
        let rows = [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 2), ("f", 3)];
        for max in 1..=5 {
            let items = layout(rows.to_vec(), max);
            let opened = items.iter().filter(|i| i.opens_replies).count() as u32;
            let closed: u32 = items.iter().map(|i| i.closes).sum();
            assert_eq!(opened, closed, "max depth {max}");
        }
    }
}

//! Safety: safeguarding triage, personal-data detection and spam signals. These are pure
//! functions over text, shared by the web, the command line and the fuzz target. Text
//! normalisation, which every input goes through first, is `crate::text` (re-exported here).

pub mod personal;
pub mod spam;
pub mod triage;

pub use crate::text;

//! Safety: text normalisation, safeguarding triage, personal-data detection and spam signals.
//! These are pure functions over text, shared by the web, the command line and the fuzz target.

pub mod personal;
pub mod spam;
pub mod text;
pub mod triage;

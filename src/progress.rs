//! What long command-line work shows while it runs, on standard error. Nothing is drawn when
//! standard error is not a terminal, so logs and scripts see only the result.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message, for work whose length is not known ("Starting the embedded database").
pub fn spinner(message: &'static str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg}… ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(message);
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// A bar for reading a file of `bytes` bytes, with a count in its message; wrap the reader with
/// [`ProgressBar::wrap_read`].
pub fn file_bar(bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} read, {msg} ({bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#![forbid(unsafe_code)]

use clap::Parser;

/// mimalloc instead of the C library's allocator: a page view allocates and frees hundreds of
/// small blocks beside the large page buffers, which glibc's allocator spends a tenth of the
/// process's time on (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    carethread::logging::init(carethread::logging::Format::from_env());
    let cli = carethread::cli::Cli::parse();
    match carethread::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("carethread: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

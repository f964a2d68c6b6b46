#![forbid(unsafe_code)]

use clap::Parser;

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

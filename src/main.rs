#[tokio::main]
async fn main() -> std::process::ExitCode {
    whatpro_hub::platform::install_crypto_provider();
    match whatpro_hub::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("whatpro-hub: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

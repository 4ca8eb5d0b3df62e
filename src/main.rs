/// mimalloc: the service allocates many small, short-lived buffers per request (headers,
/// rows, JSON); profiled, glibc malloc took ~18 % of a list request's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

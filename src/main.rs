/// mimalloc: a fleet's state and manifests are millions of small allocations,
/// which it serves markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    orch::cli::main()
}

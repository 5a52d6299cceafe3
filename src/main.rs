/// mimalloc: a fleet's state and manifests are millions of small allocations,
/// which it serves markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Where the kernel backs anonymous memory with transparent huge pages,
    // every first touch of a 2 MiB region is a fault that zeroes all of it:
    // at 150k replicas that was a quarter of a cold apply (and a third of
    // the system time). orch's heap is many small objects; plain pages serve
    // it better. Best effort: a kernel without the switch changes nothing.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    orch::cli::main()
}

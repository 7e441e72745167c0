/// Loading a large configuration is dominated by many small allocations; mimalloc
/// serves them several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pvenotify::cli::main().into()
}

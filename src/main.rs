/// Loading a large configuration makes many small allocations; mimalloc serves them
/// faster than the system allocator. It is built without transparent huge pages
/// (`no_thp` in Cargo.toml): their 2 MiB pages doubled the peak RSS of small runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pvenotify::cli::main().into()
}

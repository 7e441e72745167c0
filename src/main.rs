// The system allocator (glibc). mimalloc served the many small allocations of a
// 30,000-matcher configuration faster (36.6 against 42.2 ms), but with it the peak memory of a
// large notification grew with every target it went to, as the megabyte-sized bodies freed
// after one target were not reused for the next (RSS after each of four targets of a
// 1.2 MiB template: 20, 29, 31 and 38 MiB; 22 MiB in all with glibc).
fn main() -> std::process::ExitCode {
    pvenotify::cli::main().into()
}

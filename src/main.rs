fn main() -> std::process::ExitCode {
    pvenotify::cli::main().into()
}

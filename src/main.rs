//! The `switchboard` binary: hands the command line to the library.

fn main() -> std::process::ExitCode {
    switchboard::cli::main()
}

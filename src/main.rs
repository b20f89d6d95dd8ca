fn main() -> std::process::ExitCode {
    zonecheck::cli::main()
}

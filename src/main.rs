use std::process::ExitCode;

fn main() -> ExitCode {
    let code = match pricequeue::cmd::main() {
        Ok(exit) => exit.code(),
        // `pricequeue query | head`: the reader has all it wanted.
        Err(err) if is_broken_pipe(&err) => pricequeue::error::OK,
        Err(err) => {
            pricequeue::cmd::log(&format!("error: {err:#}"));
            if let Some(hint) = pricequeue::store::hint(&err).or_else(|| pricequeue::error::hint(&err)) {
                pricequeue::cmd::log(&format!("hint: {hint}"));
            }
            pricequeue::error::exit_code(&err).code()
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    pricequeue::error::io_kind(err) == Some(std::io::ErrorKind::BrokenPipe)
}

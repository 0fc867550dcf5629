use std::process::ExitCode;

fn main() -> ExitCode {
    let code = match pricequeue::cmd::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            pricequeue::error::exit_code(&err)
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

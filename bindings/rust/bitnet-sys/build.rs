//! Finds libbitnet. BITNET_LIB_DIR (a folder holding libbitnet.so, e.g. a CMake build's lib/)
//! wins; otherwise `pkg-config --libs --cflags bitnet` supplies the flags, so an installed
//! library is found through PKG_CONFIG_PATH like any other C dependency. No crates are used, so
//! the build works offline.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=BITNET_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    if let Ok(dir) = env::var("BITNET_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=bitnet");
        return;
    }

    let output = Command::new("pkg-config")
        .args(["--libs", "--cflags", "bitnet"])
        .output()
        .unwrap_or_else(|error| panic!("bitnet-sys: cannot run pkg-config: {error}"));
    if !output.status.success() {
        panic!(
            "bitnet-sys: `pkg-config --libs --cflags bitnet` failed (set PKG_CONFIG_PATH to the \
             folder holding bitnet.pc, or BITNET_LIB_DIR to the folder holding libbitnet.so): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    // Only the linker flags matter to Rust; -I from --cflags has no use without a C compiler.
    for flag in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={lib}");
        }
    }
}

//! The declarations are written by hand, so these tests keep them from falling behind the header:
//! every `BITNET_API` function must be declared with the same number of parameters, and the
//! parameter structs must have the size the library itself reports in `struct_size`, the header's
//! fields in the header's order, and each field at the offset C gives it.
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// The header next to this crate in the source tree, unless BITNET_HEADER names another.
fn header_path() -> PathBuf {
    match std::env::var_os("BITNET_HEADER") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../include/bitnet.h"),
    }
}

fn strip_c_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("*/") {
            Some(end) => &rest[start + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The text between the first '(' and its matching ')', split at top-level commas.
fn parameters(declaration: &str) -> (String, Vec<String>) {
    let open = declaration
        .find('(')
        .expect("a function declaration has a parameter list");
    let name = declaration[..open]
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next_back()
        .unwrap_or("");
    let mut depth = 0;
    let mut list = vec![String::new()];
    for c in declaration[open + 1..].chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                list.push(String::new());
                continue;
            }
            _ => {}
        }
        list.last_mut().unwrap().push(c);
    }
    let list = list
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty() && p != "void")
        .collect();
    (name.to_string(), list)
}

/// name -> parameter count for each `BITNET_API` function of the header.
fn header_functions() -> BTreeMap<String, usize> {
    let path = header_path();
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // Preprocessor lines (with their continuations) hold the BITNET_API definition itself.
    let mut code = String::new();
    let mut continued = false;
    for line in strip_c_comments(&text).lines() {
        let directive = continued || line.trim_start().starts_with('#');
        continued = directive && line.trim_end().ends_with('\\');
        if !directive {
            code.push_str(line);
            code.push('\n');
        }
    }
    code.split(';')
        .filter_map(|statement| statement.split("BITNET_API").nth(1))
        .map(|declaration| {
            let (name, list) = parameters(declaration);
            (name, list.len())
        })
        .collect()
}

/// name -> parameter count for each `pub fn` of this crate's extern block.
fn declared_functions() -> BTreeMap<String, usize> {
    let source = include_str!("../src/lib.rs");
    source
        .split("pub fn ")
        .skip(1)
        .map(|declaration| {
            let (name, list) = parameters(declaration);
            (name, list.len())
        })
        .collect()
}

#[test]
fn every_header_function_is_declared_with_its_arity() {
    let header = header_functions();
    let declared = declared_functions();
    assert!(
        header.len() > 50,
        "parsed only {} functions from the header",
        header.len()
    );
    let mut problems = Vec::new();
    for (name, count) in &header {
        match declared.get(name) {
            None => problems.push(format!("{name} is in bitnet.h but not declared here")),
            Some(declared) if declared != count => {
                problems.push(format!("{name} takes {count} parameters in bitnet.h, {declared} here"))
            }
            Some(_) => {}
        }
    }
    for name in declared.keys().filter(|name| !header.contains_key(*name)) {
        problems.push(format!("{name} is declared here but not in bitnet.h"));
    }
    assert!(
        problems.is_empty(),
        "bitnet-sys is out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn parameter_structs_match_the_library_layout() {
    use bitnet_sys::*;
    use std::mem::size_of;
    unsafe {
        assert_eq!(
            bitnet_model_default_params().struct_size,
            size_of::<bitnet_model_params>()
        );
        assert_eq!(
            bitnet_context_default_params().struct_size,
            size_of::<bitnet_context_params>()
        );
        assert_eq!(
            bitnet_sampler_chain_default_params().struct_size,
            size_of::<bitnet_sampler_chain_params>()
        );
    }
}

/// The fields of `typedef struct NAME { ... } NAME;` in the header: (name, type) in order.
fn header_struct_fields(name: &str) -> Vec<(String, String)> {
    let path = header_path();
    let text = strip_c_comments(&fs::read_to_string(&path).unwrap());
    let start = text
        .find(&format!("typedef struct {name} {{"))
        .unwrap_or_else(|| panic!("{name} is not in bitnet.h"));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    body.split(';')
        .map(str::trim)
        .filter(|field| !field.is_empty())
        .map(|field| {
            // An array field `T name[N]` becomes (name, "T[N]").
            let (field, extent) = match field.find('[') {
                Some(open) => (field[..open].trim_end(), &field[open..]),
                None => (field, ""),
            };
            let split = field.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap();
            (field[split + 1..].to_string(), format!("{}{extent}", field[..=split].trim()))
        })
        .collect()
}

/// The field names of `pub struct NAME { ... }` in this crate, in order.
fn declared_struct_fields(name: &str) -> Vec<String> {
    let source = include_str!("../src/lib.rs");
    let start = source
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("{name} is not declared here"));
    let body = &source[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    body.split(',')
        .filter_map(|field| field.trim().strip_prefix("pub "))
        .map(|field| field.split(':').next().unwrap().trim().to_string())
        .collect()
}

/// Size and alignment of a header field type under the C ABI of this target.
fn c_layout(c_type: &str) -> (usize, usize) {
    use std::mem::{align_of, size_of};
    let pointer = (size_of::<*const u8>(), align_of::<*const u8>());
    if let Some(open) = c_type.find('[') {
        let count: usize = c_type[open + 1..c_type.len() - 1].parse().expect("an array extent");
        let (size, align) = c_layout(&c_type[..open]);
        return (size * count, align);
    }
    if c_type.contains('*') || c_type.ends_with("_callback") {
        return pointer;
    }
    match c_type {
        "size_t" => (size_of::<usize>(), align_of::<usize>()),
        "uint32_t" | "int32_t" | "float" => (4, 4),
        "uint64_t" | "int64_t" => (size_of::<u64>(), align_of::<u64>()),
        "bool" => (1, 1),
        // Every bitnet_*_type is a C enum: an int.
        t if t.starts_with("bitnet_") && t.ends_with("_type") => {
            (size_of::<std::os::raw::c_int>(), align_of::<std::os::raw::c_int>())
        }
        t => panic!("the layout test does not know the C type '{t}': add it to c_layout"),
    }
}

/// Field offsets as a C compiler lays the header's struct out.
fn header_offsets(name: &str) -> Vec<(String, usize)> {
    let mut offset: usize = 0;
    header_struct_fields(name)
        .into_iter()
        .map(|(field, c_type)| {
            let (size, align) = c_layout(&c_type);
            offset = offset.div_ceil(align) * align;
            let at = offset;
            offset += size;
            (field, at)
        })
        .collect()
}

macro_rules! rust_offsets {
    ($name:ident { $($field:ident),* $(,)? }) => {
        vec![$((stringify!($field).to_string(), std::mem::offset_of!(bitnet_sys::$name, $field))),*]
    };
}

#[test]
fn parameter_struct_fields_match_the_header_in_order_and_offset() {
    let cases = [
        (
            "bitnet_model_params",
            rust_offsets!(bitnet_model_params {
                struct_size,
                progress_callback,
                progress_user_data,
                head_type,
                vocab_only,
                use_mmap,
                metadata_only,
                use_mlock
            }),
        ),
        (
            "bitnet_context_params",
            rust_offsets!(bitnet_context_params {
                struct_size,
                n_ctx,
                n_batch,
                n_seq_max,
                n_outputs_max,
                n_threads,
                kv_type,
                quantize_activations,
                embeddings,
                abort_callback,
                abort_user_data,
                buffer,
                buffer_size,
                backend,
                device_index
            }),
        ),
        (
            "bitnet_sampler_chain_params",
            rust_offsets!(bitnet_sampler_chain_params { struct_size, no_perf }),
        ),
        (
            "bitnet_tensor_info",
            rust_offsets!(bitnet_tensor_info {
                struct_size,
                name,
                type_name,
                n_dims,
                dims,
                data_offset,
                n_bytes,
                file_type_id,
                unrunnable
            }),
        ),
    ];
    for (name, rust) in cases {
        let header = header_offsets(name);
        let header_names: Vec<&str> = header.iter().map(|(field, _)| field.as_str()).collect();
        // Every field of the declaration is listed above, so the offsets below cover them all.
        assert_eq!(
            declared_struct_fields(name),
            rust.iter().map(|(field, _)| field.clone()).collect::<Vec<_>>(),
            "{name}: update the offset list of this test"
        );
        assert_eq!(
            declared_struct_fields(name),
            header_names,
            "{name}: the fields differ from bitnet.h (names or order)"
        );
        assert_eq!(
            rust, header,
            "{name}: field offsets differ from the C layout of bitnet.h"
        );
    }
}

#[test]
fn header_and_library_versions_agree() {
    let version = unsafe { std::ffi::CStr::from_ptr(bitnet_sys::bitnet_version()) };
    let expected = format!(
        "{}.{}.{}",
        bitnet_sys::BITNET_VERSION_MAJOR,
        bitnet_sys::BITNET_VERSION_MINOR,
        bitnet_sys::BITNET_VERSION_PATCH
    );
    assert_eq!(version.to_str().unwrap(), expected);
}

#[test]
fn version_number_matches_the_binding() {
    assert_eq!(
        unsafe { bitnet_sys::bitnet_version_number() },
        bitnet_sys::BITNET_VERSION_NUMBER
    );
}

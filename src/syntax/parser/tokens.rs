//! Tokens of the `.zc` grammar: names, lists, addresses, numbers, port ranges, service
//! items and strings, and the comment scanner.

use super::*;

impl<'a> Parser<'a> {
    pub(super) fn ident(&mut self, i: &'a str, what: &str) -> R<'a, Ident> {
        let (rest, w) = raw_word(i).map_err(|_| {
            // A symbol such as an emoji where a name should be: say what names may hold.
            let len = i
                .char_indices()
                .take_while(|(_, c)| !c.is_whitespace() && !c.is_ascii())
                .map(|(n, c)| n + c.len_utf8())
                .last()
                .unwrap_or(0);
            if len > 0 && !i.starts_with(TYPOGRAPHIC_QUOTES) {
                nom::Err::Failure(
                    err_at(i, len, code::SYNTAX_INVALID_NAME, format!("`{}` is not a valid name", i.get(..len).unwrap_or("")))
                        .help("names start with a lowercase letter a-z and continue with a-z, 0-9, `_` or `-`; labels in quotes may hold any text"),
                )
            } else {
                nom::Err::Failure(expected(i, what))
            }
        })?;
        if !valid_name(w) {
            let lower = w.to_lowercase();
            let help = if valid_name(&lower) {
                format!("names are lowercase: write `{lower}`")
            } else {
                "names start with a lowercase letter a-z and continue with a-z, 0-9, `_` or `-`".to_string()
            };
            return fail(
                err_at(i, w.len(), code::SYNTAX_INVALID_NAME, format!("`{w}` is not a valid name")).help(help),
            );
        }
        Ok((rest, Ident { name: w.to_string(), span: self.span(i, rest) }))
    }

    pub(super) fn ident_list(&mut self, i: &'a str, what: &str) -> R<'a, Vec<Ident>> {
        let mut out = Vec::new();
        let mut i = i;
        loop {
            let (rest, id) = self.ident(i, what)?;
            out.push(id);
            let j = ws(rest);
            match j.strip_prefix(',') {
                Some(next) => i = ws_nl(next),
                None => return Ok((rest, out)),
            }
        }
    }

    pub(super) fn addr_list(&mut self, i: &'a str) -> R<'a, Vec<AddrLit>> {
        let mut out = Vec::new();
        let mut i = i;
        loop {
            let (rest, a) = self.addr(i)?;
            out.push(a);
            let j = ws(rest);
            match j.strip_prefix(',') {
                Some(next) => i = ws_nl(next),
                None => return Ok((rest, out)),
            }
        }
    }

    pub(super) fn addr(&mut self, i: &'a str) -> R<'a, AddrLit> {
        let (rest, text) = take_while1::<_, _, PErr>(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.')
            .parse(i)
            .map_err(|_| nom::Err::Failure(expected(i, "an IPv4 or IPv6 address or prefix")))?;
        let (rest, len) = match rest.strip_prefix('/') {
            Some(after) => {
                let (after, digits) = take_while::<_, _, PErr>(|c: char| c.is_ascii_alphanumeric()).parse(after)?;
                (after, Some(digits))
            }
            None => (rest, None),
        };
        let whole = self.span(i, rest);
        let bad = |detail: &str| {
            fail(
                err_at(i, whole.len(), code::SYNTAX_INVALID_ADDRESS, format!("invalid address `{}`: {detail}", i.get(..whole.len()).unwrap_or("")))
                    .help("write an address as `10.20.10.10` or `fd20:20:10::10`, a prefix as `10.20.10.0/24` or `fd20:20:10::/64`"),
            )
        };
        let Ok(addr) = text.parse::<std::net::IpAddr>() else {
            return bad("not an IPv4 or IPv6 address");
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix_len = match len {
            None => max,
            Some(d) => match d.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return bad(&format!("the prefix length must be 0 to {max}")),
            },
        };
        match IpNet::new(addr, prefix_len) {
            Ok(net) => Ok((rest, AddrLit { net, has_len: len.is_some(), span: whole })),
            Err(_) => bad("invalid prefix length"),
        }
    }

    pub(super) fn number(&mut self, i: &'a str) -> R<'a, u64> {
        let (rest, digits) = digit1::<_, PErr>(i).map_err(|_| nom::Err::Failure(expected(i, "a number")))?;
        if rest.starts_with(is_word_char) && !rest.starts_with('-') {
            let len = found_len(i);
            return fail(
                err_at(
                    i,
                    len,
                    code::SYNTAX_INVALID_NUMBER,
                    format!("`{}` is not a number", i.get(..len).unwrap_or("")),
                )
                .help("numbers are written in decimal digits"),
            );
        }
        match digits.parse::<u64>() {
            Ok(n) if n <= u64::from(u32::MAX) => Ok((rest, n)),
            _ => fail(
                err_at(i, digits.len(), code::SYNTAX_INVALID_NUMBER, format!("number `{digits}` is far too large"))
                    .help("ports are 1 to 65535, protocol numbers and ICMP types 0 to 255"),
            ),
        }
    }

    pub(super) fn port_range(&mut self, i: &'a str) -> R<'a, PortRange> {
        let (rest, lo) = self.number(i)?;
        if let Some(after) = rest.strip_prefix('-') {
            let (rest, hi) = self.number(after)?;
            Ok((rest, PortRange { lo, hi }))
        } else {
            Ok((rest, PortRange { lo, hi: lo }))
        }
    }

    pub(super) fn service_item(&mut self, i: &'a str) -> R<'a, Spanned<ServiceItem>> {
        let start = i;
        let (rest, word) =
            raw_word(i).map_err(|_| nom::Err::Failure(expected(i, "a service item such as `tcp/443`")))?;
        let slash = rest.strip_prefix('/');
        let (rest, item) = match (word, slash) {
            ("tcp", Some(r)) => self.port_range(r).map(|(i, p)| (i, ServiceItem::Tcp(p)))?,
            ("udp", Some(r)) => self.port_range(r).map(|(i, p)| (i, ServiceItem::Udp(p)))?,
            ("proto", Some(r)) => self.number(r).map(|(i, n)| (i, ServiceItem::Proto(n)))?,
            ("icmp" | "icmpv6", None) => {
                (rest, if word == "icmp" { ServiceItem::Icmp(None) } else { ServiceItem::Icmpv6(None) })
            }
            ("icmp" | "icmpv6", Some(r)) => {
                let (after, ty) = if r.starts_with(|c: char| c.is_ascii_digit()) {
                    let (after, n) = self.number(r)?;
                    (after, IcmpType::Number(n))
                } else {
                    let (after, name) = self.ident(r, "an ICMP type name or number")?;
                    (after, IcmpType::Named(name.name))
                };
                (after, if word == "icmp" { ServiceItem::Icmp(Some(ty)) } else { ServiceItem::Icmpv6(Some(ty)) })
            }
            ("any", None) => (rest, ServiceItem::Any),
            ("tcp" | "udp" | "proto", None) => {
                return fail(expected(
                    rest,
                    &format!("`/` and a {} after `{word}`", if word == "proto" { "protocol number" } else { "port" }),
                ));
            }
            _ => {
                return fail(
                    expected(
                        i,
                        "a service item (`tcp/P`, `udp/P`, `icmp`, `icmp/TYPE`, `icmpv6/TYPE`, `proto/N`, `any`)",
                    )
                    .help("service items look like `tcp/443`, `udp/49152-65535` or `icmp/echo-request`"),
                );
            }
        };
        Ok((rest, Spanned { node: item, span: self.span(start, rest) }))
    }

    pub(super) fn string(&mut self, i: &'a str) -> R<'a, Str> {
        let start = i;
        let Some(body) = i.strip_prefix('"') else {
            return fail(expected(i, "a quoted string"));
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((idx, c)) = chars.next() {
            let here = body.get(idx..).unwrap_or("");
            match c {
                '"' => {
                    let rest = body.get(idx + 1..).unwrap_or("");
                    return Ok((rest, Str { value, span: self.span(start, rest) }));
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => value.push(e),
                    Some((_, '\n')) | None => break,
                    Some((_, other)) => {
                        return fail(
                            err_at(
                                here,
                                1 + other.len_utf8(),
                                code::SYNTAX_INVALID_ESCAPE,
                                format!("invalid escape `\\{}` in a string", other.escape_debug()),
                            )
                            .help("only `\\\"` and `\\\\` are escapes; write other characters as they are"),
                        );
                    }
                },
                '\n' => break,
                '\r' if body.get(idx + 1..).is_some_and(|r| r.starts_with('\n')) => break,
                c if c.is_control() => {
                    return fail(
                        err_at(
                            here,
                            c.len_utf8(),
                            code::SYNTAX_CONTROL_CHARACTER,
                            format!(
                                "control character U+{:04X}{} in a string",
                                u32::from(c),
                                if c == '\t' { " (tab)" } else { "" }
                            ),
                        )
                        .help("strings cannot hold control characters such as tabs; remove it"),
                    );
                }
                c => value.push(c),
            }
        }
        let line_len = i.find('\n').unwrap_or(i.len());
        let line_len = if i.get(..line_len).is_some_and(|l| l.ends_with('\r')) { line_len - 1 } else { line_len };
        fail(
            err_at(i, line_len, code::SYNTAX_UNTERMINATED_STRING, "unterminated string")
                .help("close the string with `\"` on the same line"),
        )
    }
}

/// Find every comment, outside strings. Strings never span lines, so this needs no parser.
pub(crate) fn scan_comments(src: &str, file: FileId) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in src.split_inclusive('\n') {
        let mut in_string = false;
        let mut escaped = false;
        for (idx, c) in line.char_indices() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            } else if c == '#' {
                let text = line.get(idx + 1..).unwrap_or("").trim_end_matches(['\n', '\r']);
                let own_line = line.get(..idx).is_some_and(|b| b.trim().is_empty());
                let start = line_start + idx;
                out.push(Comment {
                    text: text.to_string(),
                    span: Span::new(file, start, start + 1 + text.len()),
                    own_line,
                });
                break;
            }
        }
        line_start += line.len();
    }
    out
}

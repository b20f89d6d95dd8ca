//! Names in flows and groups: zones, classes, systems, devices and groups to references,
//! groups expanded iteratively (cycles reported), references to data nodes.

use super::*;

impl Resolver {
    pub(super) fn zone_ref(&mut self, z: &ast::Ident) -> Option<ZoneId> {
        let found = self.zone_names.get(&z.name).copied();
        if found.is_none() {
            let hint = did_you_mean(&z.name, self.zones.iter().map(|z| z.name.as_str()));
            self.diags.push(
                Diag::error(code::RESOLVE_UNKNOWN_ZONE, z.span, format!("unknown zone `{}`", z.name)).help(
                    if hint.is_empty() {
                        "declare it with `zone NAME { trust …; net … }`".to_string()
                    } else {
                        hint
                    },
                ),
            );
        }
        found
    }

    pub(super) fn class_ref(&mut self, c: &ast::Ident) -> Option<ClassId> {
        let found = self.class_names.get(&c.name).copied();
        if found.is_none() {
            let hint = did_you_mean(&c.name, self.classes.iter().map(|c| c.name.as_str()));
            self.diags.push(
                Diag::error(code::RESOLVE_UNKNOWN_CLASS, c.span, format!("unknown data class `{}`", c.name))
                    .help(if hint.is_empty() { "declare it with `class NAME \"label\"`".to_string() } else { hint }),
            );
        }
        found
    }

    pub(super) fn endpoint_ref(&mut self, n: &ast::Ident) -> Option<EndpointRef> {
        if let Some(s) = self.system_names.get(&n.name) {
            return Some(EndpointRef::System(*s));
        }
        if let Some(z) = self.zone_names.get(&n.name) {
            return Some(EndpointRef::Zone(*z));
        }
        if let Some(g) = self.group_names.get(&n.name) {
            return Some(EndpointRef::Group(*g));
        }
        if let Some(d) = self.device_names.get(&n.name) {
            let dev = &self.devices[d.index()];
            if let Some(node) = dev.node {
                return Some(EndpointRef::System(node));
            }
            self.diags.push(
                Diag::error(
                    code::RESOLVE_MISSING_PROPERTY,
                    n.span,
                    format!("the {} `{}` is named in a flow but has no `address`", dev.kind.noun(), n.name),
                )
                .related(dev.name_span, "the device")
                .help("declare the addresses it is managed at, for example `address 10.20.60.1`"),
            );
            return None;
        }
        let all = self
            .systems
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.zones.iter().map(|z| z.name.as_str()))
            .chain(self.groups.iter().map(|g| g.name.as_str()));
        let hint = did_you_mean(&n.name, all);
        self.diags.push(
            Diag::error(
                code::RESOLVE_UNKNOWN_ENDPOINT,
                n.span,
                format!("no system, zone or group is named `{}`", n.name),
            )
            .help(if hint.is_empty() { "declare it, or check the spelling".to_string() } else { hint }),
        );
        None
    }

    pub(super) fn fill_group(&mut self, item: &Item) {
        let Some(id) = Self::item_id(&self.group_names, item, |id| self.groups[id.index()].name_span) else { return };
        let mut members = Vec::new();
        for p in item.props() {
            if let PropKind::Members(list) = &p.kind {
                for m in list {
                    if let Some(r) = self.endpoint_ref(m) {
                        members.push(r);
                    }
                    self.group_members_raw[id.index()].push(m.clone());
                }
            }
        }
        if members.is_empty() && self.group_members_raw[id.index()].is_empty() && !item.damaged {
            let g = &self.groups[id.index()];
            self.diags.push(
                Diag::error(code::RESOLVE_EMPTY_ENDPOINT, g.name_span, format!("group `{}` has no members", g.name))
                    .help("list its members: `group NAME { a, b }`"),
            );
        }
        self.groups[id.index()].members = members;
    }

    /// Expand every group to data nodes, iteratively (no recursion: nesting can be deep).
    pub(super) fn expand_groups(&mut self) {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            New,
            Open,
            Done,
        }
        let n = self.groups.len();
        let mut state = vec![State::New; n];
        self.group_nodes = vec![Vec::new(); n];
        let mut reported = BTreeSet::new();
        for root in 0..n {
            if state[root] != State::New {
                continue;
            }
            // Stack of (group, next member index).
            let mut stack = vec![(root, 0usize)];
            state[root] = State::Open;
            while let Some(&mut (g, ref mut next)) = stack.last_mut() {
                let members = &self.groups[g].members;
                if let Some(m) = members.get(*next).copied() {
                    *next += 1;
                    if let EndpointRef::Group(child) = m {
                        match state[child.index()] {
                            State::New => {
                                state[child.index()] = State::Open;
                                stack.push((child.index(), 0));
                            }
                            // Past 100 cycles stop listing them: each costs the stack's depth (quadratic).
                            State::Open if reported.len() < 100 => {
                                // A cycle: the groups on the stack from `child` up to `g`.
                                let start = stack.iter().position(|(s, _)| *s == child.index()).unwrap_or(0);
                                let cycle: Vec<usize> =
                                    stack.get(start..).unwrap_or(&[]).iter().map(|(s, _)| *s).collect();
                                let key: BTreeSet<usize> = cycle.iter().copied().collect();
                                if reported.insert(key.into_iter().collect::<Vec<_>>()) {
                                    // At most 8 names and labels: miette renders 10,000 labels for seconds.
                                    let mut names: Vec<&str> =
                                        cycle.iter().take(8).map(|i| self.groups[*i].name.as_str()).collect();
                                    let more = format!("… ({} groups in all)", cycle.len());
                                    if cycle.len() > 8 {
                                        names.push(&more);
                                    }
                                    let first = cycle.iter().copied().min().unwrap_or(g);
                                    let mut d = Diag::error(
                                        code::RESOLVE_GROUP_CYCLE,
                                        self.groups[first].name_span,
                                        format!(
                                            "groups contain each other: {} -> {}",
                                            names.join(" -> "),
                                            self.groups[child.index()].name
                                        ),
                                    )
                                    .label("this group is part of the cycle")
                                    .help("a group cannot contain itself, directly or through other groups");
                                    for i in cycle.iter().filter(|i| **i != first).take(7) {
                                        d = d.related(self.groups[*i].name_span, "also in the cycle");
                                    }
                                    self.diags.push(d);
                                }
                            }
                            State::Open | State::Done => {}
                        }
                    }
                } else {
                    // All members visited: expand.
                    let mut nodes = Vec::new();
                    for m in &self.groups[g].members {
                        match *m {
                            EndpointRef::System(s) => nodes.push(Node::System(s)),
                            EndpointRef::Zone(z) => {
                                nodes.extend(self.zone_nodes.get(z.index()).into_iter().flatten().copied())
                            }
                            EndpointRef::Group(c) => {
                                nodes.extend(self.group_nodes.get(c.index()).into_iter().flatten().copied())
                            }
                        }
                    }
                    nodes.sort();
                    nodes.dedup();
                    self.group_nodes[g] = nodes;
                    state[g] = State::Done;
                    stack.pop();
                }
            }
        }
    }

    pub(super) fn expand(&self, refs: &[EndpointRef]) -> Vec<Node> {
        let mut nodes = Vec::new();
        for r in refs {
            match *r {
                EndpointRef::System(s) => nodes.push(Node::System(s)),
                EndpointRef::Zone(z) => nodes.extend(self.zone_nodes.get(z.index()).into_iter().flatten().copied()),
                EndpointRef::Group(g) => nodes.extend(self.group_nodes.get(g.index()).into_iter().flatten().copied()),
            }
        }
        nodes.sort();
        nodes.dedup();
        nodes
    }
}

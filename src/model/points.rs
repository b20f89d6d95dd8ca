//! The enforcement points of a policy (DESIGN.md §4a): every firewall and switch, and every
//! system whose platform has a host firewall. Lowering gives each its rules and `check`
//! states on its own what each must permit; both start from this list.

use super::{DeviceId, Model, Platform, SystemId, Target};

/// Which enforcement point: a device or a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Enforcer {
    Device(DeviceId),
    Host(SystemId),
}

/// Which kind of enforcement point, and for devices their target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostOrDevice {
    LinuxHost,
    WindowsHost,
    Device(Target),
}

/// One enforcement point, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnforcementPoint {
    pub enforcer: Enforcer,
    pub name: String,
    pub target: HostOrDevice,
}

impl EnforcementPoint {
    pub(crate) fn is_host(&self) -> bool {
        matches!(self.enforcer, Enforcer::Host(_))
    }
}

/// Settings of the stateless (switch ACL) enforcement points, from `zonecheck.toml`: what
/// their exact answers permit. Renderers and the checker share the setting, not code.
#[derive(Clone, Debug)]
pub struct AclOptions {
    /// The clients' ephemeral port range: UDP answers may go to these ports only.
    pub ephemeral: (u16, u16),
}

impl Default for AclOptions {
    fn default() -> Self {
        AclOptions { ephemeral: (1024, 65535) }
    }
}

impl Model {
    /// Every enforcement point: the devices in declaration order, then the hosts with a
    /// platform firewall in declaration order.
    pub fn enforcement_points(&self) -> Vec<EnforcementPoint> {
        let devices = self.devices.iter().enumerate().map(|(i, d)| EnforcementPoint {
            enforcer: Enforcer::Device(DeviceId::from_index(i)),
            name: d.name.clone(),
            target: HostOrDevice::Device(d.target),
        });
        let hosts = self.systems.iter().enumerate().filter_map(|(i, s)| {
            let target = match s.platform? {
                Platform::Linux => HostOrDevice::LinuxHost,
                Platform::Windows => HostOrDevice::WindowsHost,
                Platform::Appliance | Platform::Saas => return None,
            };
            Some(EnforcementPoint { enforcer: Enforcer::Host(SystemId::from_index(i)), name: s.name.clone(), target })
        });
        devices.chain(hosts).collect()
    }

    /// The enforcement point of this name (a device before a host of the same name).
    pub fn enforcement_point(&self, name: &str) -> Option<EnforcementPoint> {
        self.enforcement_points().into_iter().find(|p| p.name == name)
    }
}

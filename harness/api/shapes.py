"""The response objects of the API, as data: each object's fields with CloudStack's names,
types and descriptions (the ``@SerializedName`` / ``@Param`` of its ``*Response.java``).

A :class:`Shape` is one response class; commands name the shape they answer with, and
``listApis`` describes it field by field (CloudStack's ``ApiResponseResponse``: ``name``,
``description``, ``type`` and, for nested objects, ``response``). The serialiser omits
absent values (:func:`prune`), as CloudStack's Gson serialiser skips nulls.

Fields are written one per line, ``name type description``; a ``+`` before the name marks a
field of hvsnap's own (CloudStack's class has no such field; the definitions test skips
it). Types are the lower-cased Java simple names listApis reports (``string``, ``date``,
``boolean``, ``integer``, ``long``, ``set``, ``list``, ``map``, or an enum's name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    description: str
    shape: Shape | None = None  # the object of a nested set or list
    extension: bool = False  # hvsnap's own field, not in CloudStack's class

    def describe(self) -> Obj:
        out: Obj = {"name": self.name, "description": self.description, "type": self.type}
        if self.shape is not None:
            out["response"] = self.shape.describe()
        return out


@dataclass(frozen=True, slots=True)
class Shape:
    """One response class: ``key`` names the object in answers (``vmsnapshot``),
    ``java`` the CloudStack class it follows (``None``: hvsnap's own object)."""

    key: str
    java: str | None
    fields: tuple[Field, ...]

    def describe(self) -> list[Obj]:
        return [f.describe() for f in self.fields]

    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def shape(key: str, java: str | None, spec: str, nested: Mapping[str, Shape] | None = None) -> Shape:
    """A shape from ``name type description`` lines; ``nested`` gives the objects of
    set/list fields."""
    fields = []
    for line in spec.splitlines():
        if not line.strip():
            continue
        name, type_, description = [*line.strip().split(None, 2), ""][:3]
        extension = name.startswith("+")
        name = name.lstrip("+")
        fields.append(Field(name, type_, description, (nested or {}).get(name), extension))
    return Shape(key, java, tuple(fields))


def prune(value: Any) -> Any:
    """``value`` with every ``None`` left out of its objects, at every depth."""
    if isinstance(value, dict):
        return {k: v if type(v) in _FLAT else prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [v if type(v) in _FLAT else prune(v) for v in value]
    return value


#: the values :func:`prune` leaves as they are without looking inside (no call per field)
_FLAT = frozenset({str, int, bool, float})


OWNER = """
account string the account that owns the resource
domainid string the ID of the domain of the owner
domain string the name of the domain of the owner
"""

TAG = shape(
    "tag",
    "ResourceTagResponse",
    """
    key string tag key name
    value string tag value
    resourcetype string resource type
    resourceid string ID of the resource
    account string the account associated with the tag
    domainid string the ID of the domain associated with the tag
    domain string the domain associated with the tag
    """,
)
TAGS = {"tags": TAG}

VM_SNAPSHOT = shape(
    "vmsnapshot",
    "VMSnapshotResponse",
    """
    id string the ID of the vm snapshot
    name string the name of the vm snapshot
    displayname string the display name of the vm snapshot
    description string the description of the vm snapshot
    state state the state of the vm snapshot
    type string VM Snapshot type
    current boolean indicates if this is current snapshot
    parent string the parent ID of the vm snapshot
    parentName string the parent displayName of the vm snapshot
    created date the create date of the vm snapshot
    virtualmachineid string the vm ID of the vm snapshot
    virtualmachinename string the vm name of the vm snapshot
    hypervisor hypervisortype the type of hypervisor on which snapshot is stored
    zoneid string the Zone ID of the vm snapshot
    zonename string the Zone name of the vm snapshot
    tags set the list of resource tags associated
    +serviceofferingid string the service offering of the VM when the snapshot was taken
    +serviceofferingname string the name of that service offering
    +chaindepth integer the snapshot's depth in its VM's tree: the differencing files a revert to it reads through
    """
    + OWNER,
    TAGS,
)

NIC = shape(
    "nic",
    "NicResponse",
    """
    id string the ID of the nic
    networkid string the ID of the corresponding network
    networkname string the name of the corresponding network
    netmask string the netmask of the nic
    gateway string the gateway of the nic
    ipaddress string the ip address of the nic
    broadcasturi string the broadcast uri of the nic
    isolationuri string the isolation uri of the nic
    traffictype string the traffic type of the nic
    type string the type of the nic
    isdefault boolean true if nic is default, false otherwise
    macaddress string the MAC address of the nic
    deviceid string device id for the network when plugged into the virtual machine
    virtualmachineid string Id of the vm to which the nic belongs
    """,
)

VM = shape(
    "virtualmachine",
    "UserVmResponse",
    """
    id string the ID of the virtual machine
    name string the name of the virtual machine
    displayname string user generated name
    instancename string instance name of the user vm
    state string the state of the virtual machine
    haenable boolean true if high-availability is enabled, false otherwise
    serviceofferingid string the ID of the service offering of the virtual machine
    serviceofferingname string the name of the service offering of the virtual machine
    cpunumber integer the number of cpu this virtual machine is running with
    cpuspeed integer the speed of each cpu
    memory integer the memory allocated for the virtual machine
    templateid string the ID of the template for the virtual machine
    templatename string the name of the template for the virtual machine
    templatedisplaytext string an alternate display text of the template for the virtual machine
    passwordenabled boolean true if the password reset feature is enabled, false otherwise
    password string the password (if exists) of the virtual machine
    keypair string ssh key-pair
    guestosid string Os type ID of the virtual machine
    ostypeid string OS type id of the vm
    zoneid string the ID of the availablility zone for the virtual machine
    zonename string the name of the availability zone for the virtual machine
    hostid string the ID of the host for the virtual machine
    hostname string the name of the host for the virtual machine
    hypervisor string the hypervisor on which the template runs
    rootdeviceid long device ID of the root volume
    rootdevicetype string device type of the root volume
    userid string the user's ID who deployed the virtual machine
    username string the user's name who deployed the virtual machine
    created date the date when this virtual machine was created
    nic set the list of nics associated with vm
    tags set the list of resource tags associated
    +chaindepth integer the depth of the VM's current snapshot: the differencing files its disks read through
    """
    + OWNER,
    {"nic": NIC, **TAGS},
)

SSH_KEYPAIR = shape(
    "sshkeypair",
    "SSHKeyPairResponse",
    """
    id string ID of the ssh keypair
    name string Name of the keypair
    fingerprint string Fingerprint of the public key
    account string the owner of the keypair
    domainid string the domain id of the keypair owner
    domain string the domain name of the keypair owner
    """,
)

VOLUME = shape(
    "volume",
    "VolumeResponse",
    """
    id string ID of the disk volume
    name string name of the disk volume
    type string type of the disk volume (ROOT or DATADISK)
    size long size of the disk volume
    state string the state of the disk volume
    path string the path of the volume
    +vmsnapshotchainsize long bytes the VM snapshot chain of the volume uses
    virtualmachineid string id of the virtual machine
    vmname string name of the virtual machine
    vmdisplayname string display name of the virtual machine
    vmstate string state of the virtual machine
    deviceid long the ID of the device on user vm the volume is attached to
    storageid string id of the primary storage hosting the disk volume
    storage string name of the primary storage hosting the disk volume
    storagetype string shared or local storage
    hypervisor string Hypervisor the volume belongs to
    zoneid string ID of the availability zone
    zonename string name of the availability zone
    destroyed boolean the boolean state of whether the volume is destroyed or not
    created date the date the disk volume was created
    """
    + OWNER,
)

VOLUME_SNAPSHOT = shape(
    "snapshot",
    "SnapshotResponse",
    """
    id string ID of the snapshot
    name string name of the snapshot
    state state the state of the snapshot
    volumeid string ID of the disk volume
    volumename string name of the disk volume
    volumetype string type of the disk volume
    physicalsize long physical size of backedup snapshot on image store
    created date the date the snapshot was created
    """
    + OWNER,
)

SERVICE_OFFERING = shape(
    "serviceoffering",
    "ServiceOfferingResponse",
    """
    id string the id of the service offering
    name string the name of the service offering
    displaytext string an alternate display text of the service offering
    cpunumber integer the number of CPU
    cpuspeed integer the clock rate CPU speed in Mhz
    memory integer the memory in MB
    """,
)

ZONE = shape(
    "zone",
    "ZoneResponse",
    """
    id string Zone id
    name string Zone name
    allocationstate string the allocation state of the cluster
    networktype string the network type of the zone; can be Basic or Advanced
    localstorageenabled boolean true if local storage offering enabled, false otherwise
    securitygroupsenabled boolean true if security groups support is enabled, false otherwise
    guestcidraddress string the guest CIDR address for the Zone
    """,
)

TEMPLATE = shape(
    "template",
    "TemplateResponse",
    """
    id string the template ID
    name string the template name
    displaytext string the template display text
    ostypeid string the ID of the OS type for this template
    ostypename string the name of the OS type for this template
    hypervisor string the hypervisor on which the template runs
    format imageformat the format of the template
    isready boolean true if the template is ready to be deployed from, false otherwise
    ispublic boolean true if this template is a public template, false otherwise
    isfeatured boolean true if this template is a featured template, false otherwise
    isextractable boolean true if the template is extractable, false otherwise
    crossZones boolean true if the template is managed across all Zones, false otherwise
    templatetype string the type of the template
    passwordenabled boolean true if the reset password feature is enabled, false otherwise
    bootable boolean true if the ISO is bootable, false otherwise
    size long the size of the template
    status string the status of the template
    zoneid string the ID of the zone for this template
    zonename string the name of the zone for this template
    created date the date this template was created
    tags set the list of resource tags associated
    """
    + OWNER,
    TAGS,
)

HYPERVISOR_CAPABILITIES = shape(
    "hypervisorCapabilities",
    "HypervisorCapabilitiesResponse",
    """
    id string the ID of the hypervisor capabilities row
    hypervisor string the hypervisor type
    hypervisorversion string the hypervisor version
    maxguestslimit long the maximum number of guest vms recommended for this hypervisor
    maxdatavolumeslimit integer the maximum number of Data Volumes that can be attached for this hypervisor
    vmsnapshotenabled boolean true if VM snapshots are enabled for this hypervisor
    """,
)

CONFIGURATION = shape(
    "configuration",
    "ConfigurationResponse",
    """
    name string the name of the configuration
    value string the value of the configuration
    defaultvalue string the default value of the configuration
    description string the description of the configuration
    """,
)

DOMAIN = shape(
    "domain",
    "DomainResponse",
    """
    id string the ID of the domain
    name string the name of the domain
    path string the path of the domain
    parentdomainid string the domain ID of the parent domain
    parentdomainname string the domain name of the parent domain
    level integer the level of the domain
    """,
)

USER = shape(
    "user",
    "UserResponse",
    """
    id string the user ID
    username string the user name
    firstname string the user firstname
    lastname string the user lastname
    email string the user email address
    state string the user state
    account string the account name of the user
    accountid string the account ID of the user
    accounttype integer the account type of the user
    domainid string the domain ID of the user
    domain string the domain name of the user
    isdefault boolean true if user is default, false otherwise
    created date the date and time the user account was created
    """,
)

ACCOUNT = shape(
    "account",
    "AccountResponse",
    """
    id string the id of the account
    name string the name of the account
    accounttype integer account type (admin, domain-admin, user)
    roletype string the type of the role (Admin, DomainAdmin, User)
    domainid string id of the Domain the account belongs to
    domain string name of the Domain the account belongs to
    state string the state of the account
    created date the date when this account was created
    user list the list of users associated with account
    """,
    {"user": USER},
)

LOGIN = shape(
    "loginresponse",
    "LoginCmdResponse",
    """
    username string Username
    userid string User ID
    domainid string Domain ID that the user belongs to
    timeout integer the time period before the session has expired
    account string the account name the user belongs to
    firstname string first name of the user
    lastname string last name of the user
    type string the account type (admin, domain-admin, read-only-admin, user)
    sessionkey string Session key that can be passed in subsequent Query command calls
    +accountid string the account's ID (the console links to it)
    +domain string the domain's name (the console shows it)
    """,
)

LOGOUT = shape("logoutresponse", "LogoutCmdResponse", "description string Response description")

SYNC_SETTLED = shape(
    "settled",
    None,
    """
    kind string VMSnapshot or VirtualMachine
    id string the id of what was settled
    name string its name
    from string the state it was left in
    to string the state sync settled it in
    why string why that state
    """,
)

VM_SNAPSHOT_SYNC = shape(
    "vmsnapshotsync",
    None,
    """
    why string what ran the sync: start, host reconnect, schedule or on demand
    settled list the snapshots and Instances settled, from, to and why
    jobs list the jobs of dead management servers finished
    skipped list Instances left alone: a live management server is working on them
    vanished list snapshots whose checkpoint is gone from the host
    outofband list checkpoints on the host that hvsnap did not take
    unknownvms list VMs on the host that hvsnap does not manage
    failed list what could not be settled, and why
    """,
    {"settled": SYNC_SETTLED},
)

USER_KEYS = shape(
    "userkeys",
    "RegisterResponse",
    """
    apikey string the api key of the registered user
    secretkey string the secret key of the registered user
    """,
)

SUCCESS = shape(
    "success",
    "SuccessResponse",
    """
    success boolean true if operation is executed successfully
    displaytext string any text associated with the success or failure
    """,
)

ASYNC_JOB = shape(
    "asyncjobs",
    "AsyncJobResponse",
    """
    jobid string the UUID of the latest async job acting on this object
    jobstatus integer the current status of the latest async job acting on this object
    accountid string the account id that executed the async command
    userid string the user that executed the async command
    cmd string the async command executed
    jobprocstatus integer the progress information of the PENDING job
    jobresultcode integer the result code for the job
    jobresulttype string the result type
    jobresult responseobject the result reason
    jobinstancetype string the instance/entity object related to the job
    jobinstanceid string the unique ID of the instance/entity object related to the job
    created date the created date of the job
    completed date the completed date of the job
    """,
)

HYPERVISOR = shape(
    "hypervisor",
    "HypervisorResponse",
    """
    name string Hypervisor name
    """,
)

STORAGE_POOL = shape(
    "storagepool",
    "StoragePoolResponse",
    """
    id string the ID of the storage pool
    name string the name of the storage pool
    zoneid string the Zone ID of the storage pool
    zonename string the Zone name of the storage pool
    type string the storage pool type
    path string the storage pool path
    state storagepoolstatus the state of the storage pool
    scope string the scope of the storage pool
    hypervisor string the hypervisor type of the storage pool
    disksizetotal long the total disk size of the storage pool
    disksizeallocated long the pool's currently allocated disk size
    disksizeused long the pool's currently used disk size
    created date the date and time the storage pool was created
    """,
)

EVENT = shape(
    "event",
    "EventResponse",
    """
    id string the ID of the event
    username string the name of the user who performed the action
    type string the type of the event (see event types)
    level string the event level (INFO, WARN, ERROR)
    description string a brief description of the event
    state state the state of the event
    resourceid string the ID of the resource
    resourcetype string the type of the resource
    parentid string the ID of the event that started this one
    created date the date the event was created
    """
    + OWNER,
)

CAPABILITY = shape(
    "capability",
    "CapabilitiesResponse",
    """
    cloudstackversion string version of the cloud stack
    securitygroupsenabled boolean true if security groups support is enabled, false otherwise
    userpublictemplateenabled boolean true if user and domain admins can set templates to be shared, false otherwise
    allowusercreateprojects boolean true if regular user is allowed to create projects
    projectinviterequired boolean If invitation confirmation is required when add account to project
    kvmsnapshotenabled boolean true if snapshot is supported for KVM host, false otherwise
    apilimitinterval integer time interval (in seconds) to reset api count
    apilimitmax integer Max allowed number of api requests within the specified interval
    allowuserviewdestroyedvm boolean true if the user is allowed to view destroyed virtualmachines
    allowuserexpungerecovervm boolean true if the user can recover and expunge virtualmachines
    """,
)

# The objects of the lists a Basic zone answers empty: their identities are enough.
PROJECT = shape("project", "ProjectResponse", "id string the id of the project\nname string the name of the project")
PUBLIC_IP = shape(
    "publicipaddress", "IPAddressResponse", "id string public IP address id\nipaddress string public IP address"
)
PORT_FORWARDING = shape("portforwardingrule", "FirewallRuleResponse", "id string the ID of the port forwarding rule")
IP_FORWARDING = shape("ipforwardingrule", "FirewallRuleResponse", "id string the ID of the port forwarding rule")

API = shape(
    "api",
    "ApiDiscoveryResponse",
    """
    name string the name of the api command
    description string description of the api
    since string version of CloudStack the api was introduced in
    isasync boolean true if api is asynchronous
    related string comma separated related apis
    params set the list params the api accepts
    response set api response fields
    """,
)

RESOURCE_LIMIT = shape(
    "resourcelimit",
    "ResourceLimitResponse",
    """
    resourcetype string resource type
    resourcetypename string resource type name
    max long the maximum number of the resource
    +used long how many of the resource the account or domain has
    account string the account of the resource limit
    domainid string the domain ID of the resource limit
    domain string the domain name of the resource limit
    +domainpath string the domain path of the resource limit
    """,
)

# hvsnap's own objects (no CloudStack class).
VM_SNAPSHOT_POLICY = shape(
    "vmsnapshotpolicy",
    None,
    """
    id string the ID of the policy
    virtualmachineid string the Instance
    intervaltype string HOURLY, DAILY, WEEKLY or MONTHLY
    schedule string the schedule of the policy
    timezone string the time zone of the schedule
    maxsnaps integer how many scheduled snapshots to keep
    snapshotmemory boolean snapshot the memory too
    quiescevm boolean quiesce the Instance for disk snapshots
    nextrun date when the policy runs next
    lastrun date when the policy last ran
    virtualmachinename string the name of the Instance
    snapshots integer how many snapshots of the policy are kept
    created date when the policy was created
    """
    + OWNER,
)
GUEST_DATA = shape(
    "guestdata",
    None,
    """
    virtualmachineid string the Instance
    key string the key
    value string the value
    """,
)

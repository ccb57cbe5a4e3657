"""Catalogue commands: offerings, zones, templates, hypervisors and their capabilities,
storage pools, configuration, the cloud's capabilities, and listApis."""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import COMMANDS, Call, Obj, command, paged
from harness.api.shapes import (
    API,
    CAPABILITY,
    CONFIGURATION,
    HYPERVISOR,
    HYPERVISOR_CAPABILITIES,
    SERVICE_OFFERING,
    STORAGE_POOL,
    SUCCESS,
    TEMPLATE,
    ZONE,
)
from harness.api.vmsnapshots import LISTING, PAGING, TAGGED
from harness.service import accounts, catalogue

ZONE_ID = P("zoneid", T.UUID, description="the ID of the zone", entity="zone")


@command(
    "listServiceOfferings",
    P("id", T.UUID, description="ID of the service offering", entity="serviceoffering"),
    P("name", description="name of the service offering"),
    P("virtualmachineid", T.UUID, description="the ID of the virtual machine", entity="virtualmachine"),
    *LISTING,
    response=SERVICE_OFFERING,
)
def list_service_offerings(c: Call) -> Obj:
    """Lists all available service offerings."""
    items = [
        o
        for o in c.manager.list_offerings()
        if c.get("id") in (None, o["id"])
        and c.get("name") in (None, o["name"])
        and (not c.get("keyword") or c["keyword"] in o["name"])
    ]
    return paged("serviceoffering", items, c)


@command(
    "createServiceOffering",
    P("name", required=True, description="the name of the service offering"),
    P("displaytext", description="the display text of the service offering (default: the name)"),
    # required here: hvsnap has no custom (dynamic) offerings
    P("cpunumber", T.INTEGER, True, "the CPU number of the service offering"),
    P("cpuspeed", T.INTEGER, True, "the CPU speed of the service offering in MHz."),
    P("memory", T.INTEGER, True, "the total memory of the service offering in MB"),
    response=SERVICE_OFFERING,
)
def create_service_offering(c: Call) -> Obj:
    """Creates a service offering (root admin)."""
    offering = c.manager.create_offering(c.caller, c["name"], c["cpunumber"], c["cpuspeed"], c["memory"])
    return {"serviceoffering": offering}


@command(
    "deleteServiceOffering",
    P("id", T.UUID, True, "the ID of the service offering", entity="serviceoffering"),
    response=SUCCESS,
)
def delete_service_offering(c: Call) -> Obj:
    """Deletes a service offering (root admin); Instances on it keep it."""
    accounts.delete_offering(c.manager.uow_factory, c.caller, c["id"])
    return {"success": True}


@command(
    "listZones",
    P("id", T.UUID, description="the ID of the zone", entity="zone"),
    P("name", description="the name of the zone"),
    P("available", T.BOOLEAN, description="true if you want to retrieve all available Zones"),
    P("showcapacities", T.BOOLEAN, description="flag to display the capacity of the zones"),
    *PAGING,
    response=ZONE,
)
def list_zones(c: Call) -> Obj:
    """Lists zones."""
    return paged("zone", c.manager.list_zones(c.get("id"), c.get("name")), c)


@command(
    "listTemplates",
    P(
        "templatefilter",
        required=True,
        description="featured, self, selfexecutable, sharedexecutable, executable, community or all",
    ),
    P("id", T.UUID, description="the template ID", entity="template"),
    P("name", description="the template name"),
    P("hypervisor", description="the hypervisor for which to restrict the search"),
    ZONE_ID,
    *TAGGED,
    *LISTING,
    response=TEMPLATE,
)
def list_templates(c: Call) -> Obj:
    """List all public, private, and privileged templates (a fixed Hyper-V catalogue)."""
    items = catalogue.list_templates(
        c.manager.uow_factory,
        c.caller,
        c["templatefilter"],
        c.get("id"),
        c.get("name"),
        c.get("hypervisor"),
        c.get("zoneid"),
        c.get("keyword"),
    )
    return paged("template", items, c)


@command("listHypervisors", ZONE_ID, response=HYPERVISOR)
def list_hypervisors(c: Call) -> Obj:
    """List hypervisors."""
    return paged("hypervisor", catalogue.list_hypervisors(c.manager.uow_factory, c.get("zoneid")), c)


@command(
    "listStoragePools",
    P("id", T.UUID, description="the ID of the storage pool", entity="storagepool"),
    P("name", description="the name of the storage pool"),
    ZONE_ID,
    *PAGING,
    response=STORAGE_POOL,
)
def list_storage_pools(c: Call) -> Obj:
    """Lists storage pools (root admin): each host's primary storage and its usage."""
    pools = catalogue.list_storage_pools(c.manager.uow_factory, c.caller, c.get("id"), c.get("name"))
    return paged("storagepool", [p for p in pools if c.get("zoneid") in (None, p["zoneid"])], c)


@command(
    "listHypervisorCapabilities",
    P("id", T.UUID, description="ID of the hypervisor capability", entity="hypervisorCapabilities"),
    P("hypervisor", description="the hypervisor for which to restrict the search"),
    *PAGING,
    response=HYPERVISOR_CAPABILITIES,
    since="3.0.0",
)
def list_hypervisor_capabilities(c: Call) -> Obj:
    """Lists all hypervisor capabilities."""
    items = [
        x
        for x in c.manager.list_capabilities()
        if c.get("id") in (None, x["id"]) and c.get("hypervisor") in (None, x["hypervisor"])
    ]
    return paged("hypervisorCapabilities", items, c)


@command(
    "updateHypervisorCapabilities",
    P("id", T.UUID, description="ID of the hypervisor capability", entity="hypervisorCapabilities"),
    # required here: it is the one capability hvsnap lets one change
    P("vmsnapshotenabled", T.BOOLEAN, True, "set true to enable VM snapshots for this hypervisor", since="4.16.0"),
    response=HYPERVISOR_CAPABILITIES,
    since="3.0.0",
)
def update_hypervisor_capabilities(c: Call) -> Obj:
    """Updates a hypervisor capabilities (root admin): enables or disables VM snapshots."""
    caps = c.manager.set_vm_snapshot_enabled(c.caller, c["vmsnapshotenabled"], c.get("id"))
    return {"hypervisorcapabilities": caps}


@command(
    "listConfigurations",
    P("name", description="lists configuration by name"),
    *PAGING,
    response=CONFIGURATION,
)
def list_configurations(c: Call) -> Obj:
    """Lists all configurations."""
    items = [x for x in c.manager.list_config(c.get("name")) if not c.get("keyword") or c["keyword"] in x["name"]]
    return paged("configuration", items, c)


@command(
    "updateConfiguration",
    P("name", required=True, description="the name of the configuration"),
    P("value", required=True, description="the value of the configuration", length=4096),
    response=CONFIGURATION,
)
def update_configuration(c: Call) -> Obj:
    """Updates a configuration (root admin)."""
    return {"configuration": c.manager.set_config(c.caller, c["name"], c["value"])}


@command("listCapabilities", response=CAPABILITY)
def list_capabilities(c: Call) -> Obj:
    """Lists capabilities."""
    return {"capability": catalogue.capabilities()}


@command("listApis", P("name", description="API name"), response=API, since="4.1.0")
def list_apis(c: Call) -> Obj:
    """Lists all available APIs and their parameters, response fields and metadata."""
    wanted = c.get("name")
    items = [cmd.describe() for cmd in COMMANDS.values() if wanted is None or cmd.name.lower() == wanted.lower()]
    return paged("api", items, c)

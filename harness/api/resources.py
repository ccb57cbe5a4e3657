"""Resource tags, the event log, and the network lists of a Basic zone.

``createTags`` / ``deleteTags`` / ``listTags`` work on ``UserVm`` and ``VMSnapshot``;
``listEvents`` shows CloudStack's event types for the actions hvsnap runs. A Basic zone
has no public addresses and no NAT, so ``listPublicIpAddresses``,
``listPortForwardingRules`` and ``listIpForwardingRules`` answer empty (after checking
what they are given).
"""

from __future__ import annotations

from harness.api.params import P
from harness.api.params import ParamType as T
from harness.api.registry import Call, Obj, command, job, listing, listing_scope
from harness.api.shapes import EVENT, IP_FORWARDING, PORT_FORWARDING, PUBLIC_IP, SUCCESS, TAG
from harness.api.vmsnapshots import LISTING, TAGGED
from harness.domain.errors import InvalidParameterValue
from harness.service import access

RESOURCE_TYPE = P("resourcetype", required=True, description="type of the resource (UserVm or VMSnapshot)")


@command(
    "createTags",
    RESOURCE_TYPE,
    P("resourceids", T.LIST, True, "list of resources to create the tags for"),
    P("tags", T.MAP, True, "Map of tags (key/value pairs)"),
    P("customer", description="identifies client specific tag"),
    response=SUCCESS,
    isasync=True,
    since="4.0.0",
)
def create_tags(c: Call) -> Obj:
    """Creates resource tag(s)."""
    return job(c.manager.create_tags(c.caller, c["resourcetype"], c["resourceids"], c["tags"], c.get("customer")))


@command(
    "deleteTags",
    RESOURCE_TYPE,
    P("resourceids", T.LIST, True, "Delete tags for resource id(s)"),
    P("tags", T.MAP, description="Delete tags matching key/value pairs"),
    response=SUCCESS,
    isasync=True,
    since="4.0.0",
)
def delete_tags(c: Call) -> Obj:
    """Deleting resource tag(s)."""
    return job(c.manager.delete_tags(c.caller, c["resourcetype"], c["resourceids"], c.get("tags")))


@command(
    "listTags",
    P("resourcetype", description="list by resource type"),
    P("resourceid", description="list by resource id"),
    P("key", description="list by key"),
    P("value", description="list by value"),
    P("customer", description="list by customer name"),
    *TAGGED[1:],
    *LISTING,
    response=TAG,
    since="4.0.0",
)
def list_tags(c: Call) -> Obj:
    """List resource tag(s)."""
    count, items = c.manager.list_tags(
        c.caller,
        **listing_scope(c),
        resource_type=c.get("resourcetype"),
        resource_uuid=c.get("resourceid"),
        key=c.get("key"),
        value=c.get("value"),
        customer=c.get("customer"),
        page=c.get("page"),
        pagesize=c.get("pagesize"),
    )
    return listing("tag", count, items)


@command(
    "listEvents",
    P("id", T.UUID, description="the ID of the event", entity="event"),
    P("type", description="the event type (see event types)"),
    P("level", description="the event level (INFO, WARN, ERROR)"),
    P("startdate", T.DATE, description="the start date range of the list you want to retrieve"),
    P("enddate", T.DATE, description="the end date range of the list you want to retrieve"),
    P(
        "startid",
        T.UUID,
        description="the parent/start ID of the event: lists it and the events it started",
        entity="event",
    ),
    P("resourceid", description="the ID of the resource associated with the event", since="4.17.0"),
    P("resourcetype", description="the type of the resource associated with the event", since="4.17.0"),
    *TAGGED[1:],
    *LISTING,
    response=EVENT,
)
def list_events(c: Call) -> Obj:
    """A command to list events."""
    count, items = c.manager.list_events(
        c.caller,
        **listing_scope(c),
        event_uuid=c.get("id"),
        resource_uuid=c.get("resourceid"),
        resource_type=c.get("resourcetype"),
        start_uuid=c.get("startid"),
        type_=c.get("type"),
        level=c.get("level"),
        start=c.get("startdate"),
        end=c.get("enddate"),
        keyword=c.get("keyword"),
        page=c.get("page"),
        pagesize=c.get("pagesize"),
    )
    return listing("event", count, items)


def _empty_network_list(c: Call) -> Obj:
    """A Basic zone has none: check the scope it names, answer empty."""
    access.check_listing(c.manager.uow_factory, c.caller, **listing_scope(c))
    if c.get("zoneid") is not None and c.get("zoneid") not in {z["id"] for z in c.manager.list_zones()}:
        raise InvalidParameterValue(f"Unable to find zone with specified id: {c['zoneid']}")
    return {}


IP_ADDRESS_ID = P("ipaddressid", T.UUID, description="the ID of the public IP address", entity="publicipaddress")


@command(
    "listPublicIpAddresses",
    P("id", T.UUID, description="lists IP address by ID", entity="publicipaddress"),
    P("ipaddress", description="lists the specified IP address"),
    P("allocatedonly", T.BOOLEAN, description="limits search results to allocated public IP addresses"),
    P("state", description="lists all public IP addresses by state"),
    P("zoneid", T.UUID, description="lists all public IP addresses by zone ID", entity="zone"),
    *TAGGED,
    *LISTING,
    response=PUBLIC_IP,
)
def list_public_ip_addresses(c: Call) -> Obj:
    """Lists all public IP addresses (a Basic zone has none)."""
    return _empty_network_list(c)


@command(
    "listPortForwardingRules",
    P("id", T.UUID, description="Lists rule with the specified ID.", entity="portforwardingrule"),
    IP_ADDRESS_ID,
    *TAGGED,
    *LISTING,
    response=PORT_FORWARDING,
)
def list_port_forwarding_rules(c: Call) -> Obj:
    """Lists all port forwarding rules for an IP address (a Basic zone has none)."""
    return _empty_network_list(c)


@command(
    "listIpForwardingRules",
    P("id", T.UUID, description="Lists rule with the specified ID.", entity="ipforwardingrule"),
    IP_ADDRESS_ID,
    P("virtualmachineid", T.UUID, description="Lists all rules applied to the specified VM.", entity="virtualmachine"),
    *TAGGED[1:],
    *LISTING,
    response=IP_FORWARDING,
)
def list_ip_forwarding_rules(c: Call) -> Obj:
    """List the IP forwarding rules (a Basic zone has none)."""
    return _empty_network_list(c)

@limitations
Feature: VM snapshot limitations
  As a cloud operator on Hyper-V
  I want the disk layout of a VM frozen while it has snapshots
  So that every snapshot can still be restored onto the disks it was taken of

  Spec: "Detaching/attaching VM volume is not allowed if there are VM snapshots because any
  changes to the disk layout will break the semantics of VM-based snapshot."

  Scenario Outline: <action> a data volume on a <state> VM with <memory> snapshots is refused
    Given a running VM "web"
    And a data volume "data" attached to "web"
    And a data volume "spare"
    And a snapshot "A" of "web" with memory <memory>
    And "web" is <state>
    When I try to <action> the volume "<volume>" on "web"
    Then the request is refused with error 431 saying "does not have VM snapshots"

    Examples:
      | action | volume | state   | memory |
      | attach | spare  | running | on     |
      | attach | spare  | running | off    |
      | attach | spare  | stopped | on     |
      | attach | spare  | stopped | off    |
      | detach | data   | running | on     |
      | detach | data   | running | off    |
      | detach | data   | stopped | on     |
      | detach | data   | stopped | off    |

  Scenario Outline: <action> is allowed again once every snapshot is deleted (<state> VM)
    Given a running VM "web"
    And a data volume "data" attached to "web"
    And a data volume "spare"
    And a snapshot "A" of "web" with memory off
    And "web" is <state>
    And the snapshot "A" is deleted
    When I try to <action> the volume "<volume>" on "web"
    Then the request succeeds

    Examples:
      | action | volume | state   |
      | attach | spare  | running |
      | attach | spare  | stopped |
      | detach | data   | running |
      | detach | data   | stopped |

  Scenario Outline: <action> on a VM without snapshots is allowed (<state>)
    Given a <state> VM "web"
    And a data volume "data" attached to "web"
    And a data volume "spare"
    When I try to <action> the volume "<volume>" on "web"
    Then the request succeeds

    Examples:
      | action | volume | state   |
      | attach | spare  | running |
      | attach | spare  | stopped |
      | detach | data   | running |
      | detach | data   | stopped |

  Scenario Outline: A snapshot covers every attached disk (memory <memory>)
    Given a running VM "web"
    And a data volume "data" attached to "web"
    When I take a snapshot "A" of "web" with memory <memory>
    Then every volume of "web" is active on a checkpoint file

    Examples:
      | memory |
      | on     |
      | off    |

  Scenario: Without an export strategy a stopped VM cannot be snapshotted
    Given the export strategy is "none"
    And a stopped VM "web"
    When I try to take a snapshot "A" of "web" with memory off
    Then the request is refused with error 431 saying "export"

@capabilities
Feature: Enable or disable VM snapshots per hypervisor
  As a cloud administrator
  I want to switch VM snapshots off for Hyper-V
  So that no new snapshot is taken where the hypervisor should not take them

  Spec: a vm_snapshot_enabled column in hypervisor_capabilities, "check
  hypervisor_capabilities when createVMSnapshot". Only creation is checked: existing
  snapshots can still be listed, reverted to and deleted.

  Scenario Outline: With VM snapshots disabled, a snapshot (memory <memory>) of a <state> VM is refused
    Given a <state> VM "web"
    And VM snapshots are disabled for Hyper-V
    When I try to take a snapshot "A" of "web" with memory <memory>
    Then the request is refused with error 431 saying "not enabled for hypervisor type: Hyperv"
    And "web" has no snapshots

    Examples:
      | state   | memory |
      | running | on     |
      | running | off    |
      | stopped | off    |

  Scenario Outline: With VM snapshots disabled, "<operation>" on existing snapshots still works
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    And VM snapshots are disabled for Hyper-V
    When I try to "<operation>" on "web"
    Then the request succeeds

    Examples:
      | operation            |
      | revert to A        |
      | delete A           |
      | delete all snapshots |
      | list its snapshots   |

  Scenario: Enabling VM snapshots again allows snapshots
    Given a running VM "web"
    And VM snapshots are disabled for Hyper-V
    And VM snapshots are enabled for Hyper-V
    When I take a snapshot "A" of "web" with memory on
    Then the snapshot "A" is Ready with type DiskAndMemory

  Scenario: The capability is listed for Hyper-V
    Given VM snapshots are disabled for Hyper-V
    Then the Hyper-V capability shows VM snapshots disabled

  Scenario: What the host driver does not declare is refused before the host is asked
    Given a running VM "web"
    And the host declares no guest data
    When I try to write guest data into "web"
    Then the request is refused with error 431 saying "Guest data is available on simulated hosts only"
    And the host was sent no WriteGuestData command

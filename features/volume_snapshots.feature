@volume-snapshots
Feature: Volume snapshots of a VM with VM snapshots
  As a cloud user on Hyper-V
  I want volume snapshots and VM snapshots to stay out of each other's way
  So that neither copies a disk while the other is changing its chain

  Spec: "VM snapshot operations and volume snapshot operations can not be performed
  concurrently." Spec (Testing): "take Volume Snapshot when associated VM has VM snapshots."

  Scenario Outline: A volume snapshot of a <state> VM with <memory> snapshots is allowed
    Given a running VM "web"
    And a snapshot "A" of "web" with memory <memory>
    And "web" is <state>
    When I try to take a volume snapshot of the ROOT volume of "web"
    Then the request succeeds
    And the volume snapshot is BackedUp with data

    Examples:
      | memory | state   |
      | on     | running |
      | off    | running |
      | on     | stopped |
      | off    | stopped |

  Scenario Outline: A volume snapshot is refused while a VM snapshot operation runs (<first>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    When I try to "take a volume snapshot" while "<first>" is in flight on "web"
    Then the request is refused with error 431 saying "active vm snapshot tasks"
    And "<first>" completed

    Examples:
      | first                  |
      | take a snapshot        |
      | take a memory snapshot |
      | revert to A          |
      | delete A             |

  Scenario Outline: A VM snapshot operation is refused while a volume snapshot runs (<second>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    When I try to "<second>" while "take a volume snapshot" is in flight on "web"
    Then the request is refused with error 431
    And "take a volume snapshot" completed

    Examples:
      | second                 |
      | take a snapshot        |
      | take a memory snapshot |
      | revert to A          |
      | delete A             |
      | delete all snapshots   |

  Scenario: A VM snapshot is allowed once the volume snapshot finished
    Given a running VM "web"
    And a volume snapshot of the ROOT volume of "web"
    When I take a snapshot "A" of "web" with memory on
    Then the snapshot "A" is Ready with type DiskAndMemory

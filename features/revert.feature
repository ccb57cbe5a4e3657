@revert @guest-data
Feature: Revert a VM to a snapshot
  As a cloud user on Hyper-V
  I want to revert my VM to one of its snapshots
  So that its disks (and memory, when kept) come back as they were

  Spec: "Revert VM from running/stopped to a disk+memory snapshot, result in running state;
  revert VM from running/stopped to a disk snapshot, result in stopped state." The VM is
  started or stopped first where the revert needs it; the reverted-to snapshot becomes current.

  Scenario Outline: Revert to the previous snapshot (<type>, taken <taken>, reverted from <from>)
    Given a running VM "web"
    And data written to "web"
    And "web" is <taken>
    And a snapshot "A" of "web" with memory <memory>
    And data written to "web"
    And a snapshot "B" of "web" with memory <memory>
    And new data written to "web"
    And "web" is <from>
    When I revert "web" to "<target>"
    Then "web" is <after>
    And "<target>" is the current snapshot of "web"
    And "web" holds the data of "<target>"

    Examples: the latest snapshot
      | taken   | memory | type          | from    | target | after   |
      | running | on     | DiskAndMemory | running | B      | Running |
      | running | on     | DiskAndMemory | stopped | B      | Running |
      | running | off    | Disk          | running | B      | Stopped |
      | running | off    | Disk          | stopped | B      | Stopped |
      | stopped | off    | Disk          | running | B      | Stopped |
      | stopped | off    | Disk          | stopped | B      | Stopped |

    Examples: the snapshot before it
      | taken   | memory | type          | from    | target | after   |
      | running | on     | DiskAndMemory | running | A      | Running |
      | running | on     | DiskAndMemory | stopped | A      | Running |
      | running | off    | Disk          | running | A      | Stopped |
      | running | off    | Disk          | stopped | A      | Stopped |
      | stopped | off    | Disk          | running | A      | Stopped |
      | stopped | off    | Disk          | stopped | A      | Stopped |

  Scenario Outline: Reverting to a memory snapshot leaves the host VM running (from <from>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    And "web" is <from>
    When I revert "web" to "A"
    Then the host reports "web" as Running

    Examples:
      | from    |
      | running |
      | stopped |

  Scenario Outline: Reverting to a disk snapshot takes the VM off the host (from <from>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    And "web" is <from>
    When I revert "web" to "A"
    Then "web" is not registered on the host

    Examples:
      | from    |
      | running |
      | stopped |

  Scenario: A snapshot taken after a revert branches the tree
    Given a running VM "web"
    And the snapshot tree "A(B)" of "web" with memory on
    When I revert "web" to "A"
    And I take a snapshot "C" of "web" with memory on
    Then the snapshot tree of "web" is "A(B, C*)"
    And the host's checkpoint tree of "web" is "A(B, C*)"

  Scenario Outline: Revert brings back the service offering of the snapshot's time (<memory>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory <memory>
    And "web" is stopped
    And the service offering of "web" is changed to "medium"
    When I revert "web" to "A"
    Then the service offering of "web" is "small"

    Examples:
      | memory |
      | off    |

  Scenario: A snapshot the host lost cannot be reverted to
    Given the export strategy is "none"
    And a running VM "web"
    And a snapshot "A" of "web" with memory on
    And "web" is stopped
    When I try to revert "web" to "A"
    Then the request is refused with error 431 saying "only a Ready snapshot can be reverted to"
    And the snapshot "A" is in state Error

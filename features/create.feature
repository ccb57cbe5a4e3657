@create
Feature: Create a VM snapshot
  As a cloud user on Hyper-V
  I want to snapshot my VM, with or without its memory, running or stopped
  So that I can go back to that point in time later

  Spec: "Support disk snapshot when specified VM is in running and stopped state;
  support disk and memory snapshot when specified VM is in running state".
  A disk+memory snapshot is a Standard checkpoint; a disk-only snapshot of a running VM
  is a Production checkpoint (quiesced on request); a stopped VM's snapshot never holds memory.

  Scenario Outline: Snapshot with memory <memory> and quiesce <quiesce> of a <state> VM
    Given a <state> VM "web"
    When I take a snapshot "A" of "web" with memory <memory> and quiesce <quiesce>
    Then the snapshot "A" is Ready with type <type>
    And "A" is the current snapshot of "web"
    And "web" is <after>

    Examples:
      | state   | memory | quiesce | type          | after   |
      | running | on     | off     | DiskAndMemory | Running |
      | running | on     | on      | DiskAndMemory | Running |
      | running | off    | off     | Disk          | Running |
      | running | off    | on      | Disk          | Running |
      | stopped | off    | off     | Disk          | Stopped |
      | stopped | off    | on      | Disk          | Stopped |

  Scenario Outline: Memory of a stopped VM is refused (quiesce <quiesce>)
    Given a stopped VM "web"
    When I try to take a snapshot "A" of "web" with memory on and quiesce <quiesce>
    Then the request is refused with error 431 saying "not in Running state"
    And "web" has no snapshots

    Examples:
      | quiesce |
      | off     |
      | on      |

  Scenario Outline: The host's checkpoint of a running VM holds memory only when asked (<memory>, quiesce <quiesce>)
    Given a running VM "web"
    When I take a snapshot "A" of "web" with memory <memory> and quiesce <quiesce>
    Then the host's checkpoint of "A" holds memory <held>

    Examples:
      | memory | quiesce | held |
      | on     | off     | on   |
      | on     | on      | on   |
      | off    | on      | off  |

  Scenario: A stopped VM stays off the host after its snapshot
    Given a stopped VM "web"
    When I take a snapshot "A" of "web" with memory off
    Then "web" is not registered on the host
    And the snapshot "A" is Ready with type Disk

  Scenario Outline: Each new snapshot becomes current and a child of the previous current (memory <memory>)
    Given a running VM "web"
    When I take a snapshot "A" of "web" with memory <memory>
    And I take a snapshot "B" of "web" with memory <memory>
    And I take a snapshot "C" of "web" with memory <memory>
    Then the snapshot tree of "web" is "A(B(C*))"
    And the host's checkpoint tree of "web" is "A(B(C*))"

    Examples:
      | memory |
      | on     |
      | off    |
      | mixed  |

  Scenario: Internal names follow CloudStack's <instance>_VS_<yyyyMMddHHmmss> and stay unique
    Given a running VM "web"
    When I take 3 snapshots of "web" within one second
    Then every snapshot of "web" has an internal name like "i-N-N-VM_VS_yyyyMMddHHmmss"
    And the internal names of "web"'s snapshots are all different

  Scenario: The display name defaults to the internal name
    Given a running VM "web"
    When I take an unnamed snapshot of "web"
    Then the listed snapshot's display name is its internal name

  @guest-data
  Scenario Outline: A snapshot keeps the data of its moment (<state> VM, memory <memory>)
    Given a running VM "web"
    And data written to "web"
    And "web" is <state>
    And a snapshot "A" of "web" with memory <memory>
    When I write new data to "web"
    And I revert "web" to "A"
    Then "web" holds the data of "A"

    Examples:
      | state   | memory |
      | running | on     |
      | running | off    |
      | stopped | off    |

@export
Feature: Export strategies keep snapshots across stop and start
  As a cloud operator on Hyper-V
  I want a VM's checkpoints to survive CloudStack's stop, which removes the VM from Hyper-V
  So that a stopped and restarted VM can still be reverted to its snapshots

  Spec ("When to export the VM"): export when stopping the VM (on-stop: costly stop, cheap
  snapshots), or export at every snapshot (on-snapshot: costly snapshots, cheap stop);
  import on start. Strategy "none" keeps nothing: the checkpoints are lost on stop.

  Scenario Outline: <strategy>: stop and start a VM with <count> snapshots (memory <memory>)
    Given the export strategy is "<strategy>"
    And a running VM "web"
    And <count> snapshots of "web" with memory <memory>
    When I stop "web"
    Then the host ran <at stop> exports in all
    And "web" is not registered on the host
    When I start "web"
    Then "web" is Running
    And the host's checkpoints of "web" are the <count> snapshots

    Examples:
      | strategy    | count | memory | at stop |
      | on-stop     | 1     | on     | 1       |
      | on-stop     | 1     | off    | 1       |
      | on-stop     | 3     | mixed  | 1       |
      | on-snapshot | 1     | on     | 1       |
      | on-snapshot | 1     | off    | 1       |
      | on-snapshot | 3     | mixed  | 3       |

  Scenario Outline: <strategy>: exports while snapshots are taken (<count>)
    Given the export strategy is "<strategy>"
    And a running VM "web"
    When I take <count> snapshots of "web" with memory on
    Then the host ran <exports> exports in all

    Examples:
      | strategy    | count | exports |
      | on-stop     | 1     | 0       |
      | on-stop     | 4     | 0       |
      | on-snapshot | 1     | 1       |
      | on-snapshot | 4     | 4       |
      | none        | 2     | 0       |

  Scenario Outline: <strategy>: a VM without snapshots is never exported
    Given the export strategy is "<strategy>"
    And a running VM "web"
    When I stop "web"
    And I start "web"
    Then the host ran 0 exports in all
    And the host holds no export of "web"

    Examples:
      | strategy    |
      | on-stop     |
      | on-snapshot |
      | none        |

  @guest-data
  Scenario Outline: <strategy>: after stop and start the live disk comes back, and the snapshot restores (memory <memory>)
    Given the export strategy is "<strategy>"
    And a running VM "web"
    And data written to "web"
    And a snapshot "A" of "web" with memory <memory>
    And new data written to "web"
    When I stop "web"
    And I start "web"
    Then "web" holds its latest data
    When I revert "web" to "A"
    Then "web" holds the data of "A"

    Examples:
      | strategy    | memory |
      | on-stop     | on     |
      | on-stop     | off    |
      | on-snapshot | on     |
      | on-snapshot | off    |

  Scenario Outline: <strategy>: a snapshot of a stopped VM survives the next start
    Given the export strategy is "<strategy>"
    And a stopped VM "web"
    And a snapshot "A" of "web" with memory off
    When I start "web"
    Then the host's checkpoint tree of "web" is "A*"

    Examples:
      | strategy    |
      | on-stop     |
      | on-snapshot |

  Scenario Outline: none: stopping loses the checkpoints, and the manager says so (memory <memory>)
    Given the export strategy is "none"
    And a running VM "web"
    And a snapshot "A" of "web" with memory <memory>
    When I stop "web"
    Then the snapshot "A" is in state Error
    And the snapshot "A" is not current
    When I start "web"
    Then "web" has no checkpoints on the host

    Examples:
      | memory |
      | on     |
      | off    |

  Scenario Outline: A bad strategy is refused (<value>)
    When I try to set the configuration "hyperv.vmsnapshot.export.strategy" to "<value>"
    Then the request is refused with error 431

    Examples:
      | value     |
      | sometimes |
      | ON-STOP   |

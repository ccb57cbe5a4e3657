@limits
Feature: Per-VM snapshot limit
  As a cloud administrator
  I want to cap the number of snapshots a VM keeps
  So that snapshot chains, and the slow-down they bring, stay bounded

  CloudStack's vmsnapshot.max (default 10) counts every snapshot of the VM that is not
  removed; the request past the limit is refused with 530.

  Scenario Outline: With vmsnapshot.max <max>, snapshot number <next> is refused (memory <memory>)
    Given the configuration "vmsnapshot.max" is "<max>"
    And a running VM "web"
    And <max> snapshots of "web" with memory <memory>
    When I try to take a snapshot "extra" of "web" with memory <memory>
    Then the request is refused with error 530 saying "can just have : <max>"
    And "web" has <max> snapshots

    Examples:
      | max | next | memory |
      | 1   | 2    | off    |
      | 2   | 3    | on     |
      | 3   | 4    | off    |
      | 5   | 6    | mixed  |

  Scenario: The default limit is 10
    Given a running VM "web"
    And 10 snapshots of "web" with memory off
    When I try to take a snapshot "extra" of "web" with memory off
    Then the request is refused with error 530 saying "can just have : 10"

  Scenario Outline: The limit is per VM (max <max>)
    Given the configuration "vmsnapshot.max" is "<max>"
    And a running VM "web"
    And a running VM "db"
    And <max> snapshots of "web" with memory off
    When I take a snapshot "other" of "db" with memory off
    Then "db" has 1 snapshots

    Examples:
      | max |
      | 1   |
      | 2   |

  Scenario Outline: Deleting a snapshot frees a slot (max <max>)
    Given the configuration "vmsnapshot.max" is "<max>"
    And a running VM "web"
    And <max> snapshots of "web" with memory off
    And the snapshot "web-1" is deleted
    When I take a snapshot "again" of "web" with memory off
    Then "web" has <max> snapshots

    Examples:
      | max |
      | 1   |
      | 3   |

  Scenario: A lost (Error) snapshot still counts against the limit
    Given the configuration "vmsnapshot.max" is "1"
    And the export strategy is "on-snapshot"
    And a running VM "web"
    And 1 snapshots of "web" with memory off
    And the export strategy is "none"
    And "web" is stopped
    And "web" is running
    When I try to take a snapshot "extra" of "web" with memory off
    Then the request is refused with error 530

  Scenario Outline: A malformed limit is refused (<value>)
    When I try to set the configuration "vmsnapshot.max" to "<value>"
    Then the request is refused with error 431

    Examples:
      | value |
      | ten   |
      | -1    |
      | 1.5   |

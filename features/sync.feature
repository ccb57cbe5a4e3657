@sync @sim-only
Feature: Sync after a manager outage
  As a cloud operator on Hyper-V
  I want the manager, when it comes back, to settle what it left in flight from the host's truth
  So that no snapshot stays stuck in a transient state, or claims a checkpoint the host lacks

  Spec (VMSnapshotSync): "check if there is any VM snapshot in transient states ... the
  transient state found during host connection usually means mgmt server restart/outage."
  A crash is injected by stopping the manager's workflow just before, or just after, its
  command reached the host; then the manager restarts and runs the sync.

  Scenario Outline: Crash <moment> the host took a snapshot (memory <memory>, VM <state>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    And "web" is <state>
    And the manager crashed <moment> the host took snapshot "B" of "web" with memory <memory>
    When the manager restarts and syncs with the host
    Then the snapshot "B" is <result> after the sync
    And the snapshot tree of "web" is "<tree>"

    Examples:
      | moment | memory | state   | result | tree     |
      | after  | on     | running | Ready  | A(B*)    |
      | after  | off    | running | Ready  | A(B*)    |
      | before | on     | running | Error  | A*(B)    |
      | before | off    | running | Error  | A*(B)    |
      | after  | off    | stopped | Ready  | A(B*)    |
      | before | off    | stopped | Error  | A*(B)    |

  Scenario: Crash right after the request was accepted: the never-sent snapshot goes
    Given a running VM "web"
    And the manager crashed right after accepting a snapshot "A" of "web"
    When the manager restarts and syncs with the host
    Then the snapshot "A" is gone after the sync
    And "web" has no snapshots

  Scenario Outline: Crash <moment> the host reverted: the snapshot is Ready again
    Given a running VM "web"
    And the snapshot tree "A(B)" of "web" with memory on
    And the manager crashed <moment> the host reverted "web" to "A"
    When the manager restarts and syncs with the host
    Then the snapshot "A" is Ready after the sync
    And the snapshot tree of "web" is "<tree>"

    Examples:
      | moment | tree  |
      | after  | A*(B) |
      | before | A(B*) |

  Scenario Outline: Crash <moment> the host deleted a snapshot: the delete is re-sent
    Given a running VM "web"
    And the snapshot tree "A(B(C))" of "web" with memory on
    And the manager crashed <moment> the host deleted "B" of "web"
    When the manager restarts and syncs with the host
    Then the snapshot "B" is gone after the sync
    And the snapshot tree of "web" is "A(C*)"
    And the host's checkpoint tree of "web" is "A(C*)"

    Examples:
      | moment |
      | before |
      | after  |

  Scenario: A checkpoint taken behind the manager's back is reported, never imported
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    And someone took a checkpoint "manual" of "web" directly on the host
    When the manager restarts and syncs with the host
    Then the sync reports the out-of-band checkpoint "manual" without importing it
    And the snapshots of "web" are "A"

  Scenario: With nothing in flight the sync settles nothing
    Given a running VM "web"
    And the snapshot tree "A(B, C)" of "web" with memory mixed
    When the manager restarts and syncs with the host
    Then the sync settles nothing
    And the snapshot tree of "web" is "A(B, C*)"

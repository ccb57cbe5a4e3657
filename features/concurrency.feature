@concurrency
Feature: One VM snapshot operation per VM at a time
  As a cloud operator on Hyper-V
  I want a second operation on a VM refused while a VM snapshot operation runs on it
  So that the snapshot tree on the host and in the database never diverge

  Spec: "For one VM, only one VM snapshot operation is allowed at a time (no concurrent
  operations)." CloudStack refuses the second request before queuing it, with 431
  "There is other active Instance Snapshot tasks on the instance". The first one completes.

  Scenario Outline: "<second>" while "<first>" is in flight
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    When I try to "<second>" while "<first>" is in flight on "web"
    Then the request is refused with error 431 saying "<message>"
    And "<first>" completed

    Examples: while a snapshot is being taken
      | first                  | second                 | message                                 |
      | take a snapshot        | take a snapshot        | other active Instance Snapshot tasks    |
      | take a snapshot        | take a memory snapshot | other active Instance Snapshot tasks    |
      | take a snapshot        | revert to A          | other active Instance Snapshot tasks    |
      | take a snapshot        | delete A             | other active Instance Snapshot tasks    |
      | take a snapshot        | delete all snapshots   | other active Instance Snapshot tasks    |
      | take a memory snapshot | take a snapshot        | other active Instance Snapshot tasks    |
      | take a memory snapshot | attach a volume        | does not have VM snapshots              |

    Examples: while reverting
      | first         | second                 | message                              |
      | revert to A | take a snapshot        | other active Instance Snapshot tasks |
      | revert to A | revert to A          | other active Instance Snapshot tasks |
      | revert to A | delete A             | can be deleted only when             |
      | revert to A | delete all snapshots   | other active Instance Snapshot tasks |

    Examples: while deleting
      | first                | second               | message                              |
      | delete A           | take a snapshot      | other active Instance Snapshot tasks |
      | delete A           | revert to A        | other active Instance Snapshot tasks |
      | delete all snapshots | take a snapshot      | other active Instance Snapshot tasks |
      | delete all snapshots | delete all snapshots | other active Instance Snapshot tasks |

  Scenario Outline: "<second>" is not a VM snapshot operation and may run beside "<first>"
    Given a running VM "web"
    And a snapshot "A" of "web" with memory on
    When I try to "<second>" while "<first>" is in flight on "web"
    Then the request succeeds
    And "<first>" completed

    Examples:
      | first           | second              |
      | take a snapshot | list its snapshots  |
      | revert to A   | list its snapshots  |

  Scenario: Two snapshots one after the other both succeed
    Given a running VM "web"
    When I take a snapshot "A" of "web" with memory on
    And I take a snapshot "B" of "web" with memory on
    Then the snapshot tree of "web" is "A(B*)"

@delete
Feature: Delete VM snapshots
  As a cloud user on Hyper-V
  I want to delete one snapshot, or all of them
  So that I free their storage without harming the snapshots I keep

  Spec: "Deleting a snapshot should not have any impact to its subsequent snapshots."
  CloudStack re-parents the deleted snapshot's children to its parent, and makes its parent
  current if it was current; on the host the checkpoint's AVHDX is merged.

  Scenario Outline: Delete the <which> snapshot of <tree> (memory <memory>, VM <state>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    And "web" is <state>
    When I delete the snapshot "<target>"
    Then the snapshot tree of "web" is "<after>"
    And "<target>" is not listed

    Examples: the spec's A -> {B, C}, C current
      | which   | tree    | target | after    | memory | state   |
      | current | A(B, C) | C      | A*(B)    | on     | running |
      | current | A(B, C) | C      | A*(B)    | off    | stopped |
      | leaf    | A(B, C) | B      | A(C*)    | on     | running |
      | leaf    | A(B, C) | B      | A(C*)    | mixed  | stopped |
      | root    | A(B, C) | A      | B, C*    | on     | running |
      | root    | A(B, C) | A      | B, C*    | off    | running |
      | root    | A(B, C) | A      | B, C*    | mixed  | stopped |

    Examples: a chain, D current
      | which   | tree       | target | after     | memory | state   |
      | middle  | A(B(C(D))) | B      | A(C(D*))  | on     | running |
      | middle  | A(B(C(D))) | C      | A(B(D*))  | off    | running |
      | middle  | A(B(C(D))) | B      | A(C(D*))  | mixed  | stopped |
      | current | A(B(C(D))) | D      | A(B(C*))  | off    | stopped |
      | root    | A(B(C(D))) | A      | B(C(D*))  | on     | stopped |

    Examples: a two-level tree, L4 current
      | which  | tree                      | target | after                  | memory | state   |
      | middle | R(M1(L1, L2), M2(L3, L4)) | M1     | R(L1, L2, M2(L3, L4*)) | on     | running |
      | middle | R(M1(L1, L2), M2(L3, L4)) | M2     | R(M1(L1, L2), L3, L4*) | mixed  | running |
      | root   | R(M1(L1, L2), M2(L3, L4)) | R      | M1(L1, L2), M2(L3, L4*) | off   | stopped |
      | leaf   | R(M1(L1, L2), M2(L3, L4)) | L1     | R(M1(L2), M2(L3, L4*)) | on     | stopped |

  @guest-data
  Scenario Outline: Every remaining snapshot still restores its own data (<target> deleted from <tree>, memory <memory>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    When I delete the snapshot "<target>"
    Then "web" keeps its latest data until reverted
    And every snapshot of "web" restores its own data when reverted from running

    Examples:
      | tree                      | target | memory |
      | A(B, C)                   | A      | on     |
      | A(B, C)                   | C      | off    |
      | A(B(C(D)))                | B      | mixed  |
      | A(B(C(D)))                | D      | on     |
      | R(M1(L1, L2), M2(L3, L4)) | M2     | on     |

  Scenario Outline: Host and database agree after deleting <target> from <tree>
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory on
    When I delete the snapshot "<target>"
    Then the host's checkpoint tree of "web" is "<after>"

    Examples:
      | tree       | target | after    |
      | A(B, C)    | A      | B, C*    |
      | A(B, C)    | C      | A*(B)    |
      | A(B(C(D))) | B      | A(C(D*)) |

  @guest-data
  Scenario Outline: Delete all snapshots of a <state> VM (<tree>, memory <memory>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    And "web" is <state>
    When I delete all snapshots of "web"
    Then "web" has no snapshots
    And "web" is <after>
    And "web" keeps its latest data until reverted

    Examples:
      | tree                      | memory | state   | after   |
      | A(B, C)                   | on     | running | Running |
      | A(B, C)                   | off    | stopped | Stopped |
      | A(B(C(D)))                | mixed  | running | Running |
      | R(M1(L1, L2), M2(L3, L4)) | on     | stopped | Stopped |

  Scenario: A deleted snapshot leaves no checkpoint on the host
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    When I delete the snapshot "A"
    Then "web" has no checkpoints on the host

  Scenario: A deleted snapshot cannot be deleted again
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    And the snapshot "A" is deleted
    When I try to delete the snapshot "A"
    Then the request is refused with error 431

  Scenario: A snapshot the host lost can still be deleted
    Given the export strategy is "none"
    And a running VM "web"
    And a snapshot "A" of "web" with memory on
    And "web" is stopped
    When I delete the snapshot "A"
    Then "web" has no snapshots

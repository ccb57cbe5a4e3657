@destroy
Feature: Destroying a VM destroys its snapshots
  As a cloud user on Hyper-V
  I want a destroyed VM to leave no snapshot behind
  So that no storage is kept for a VM that is gone

  Spec: "Snapshots will be destroyed when VM is destroyed."

  Scenario Outline: Destroy a <state> VM with the tree <tree> (memory <memory>, expunge <expunge>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    And "web" is <state>
    When I destroy "web" with expunge <expunge>
    Then "web" is <after>
    And "web" has no snapshots
    And "web" is not registered on the host
    And the host holds no export of "web"

    Examples:
      | state   | tree       | memory | expunge | after     |
      | running | A(B, C)    | on     | off     | Destroyed |
      | running | A(B, C)    | off    | on      | gone      |
      | stopped | A(B, C)    | mixed  | off     | Destroyed |
      | stopped | A(B(C(D))) | on     | on      | gone      |
      | running | A          | off    | off     | Destroyed |
      | stopped | A          | off    | off     | Destroyed |

  Scenario Outline: Snapshot operations on a destroyed VM are refused (<operation>)
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    And "web" is destroyed
    When I try to "<operation>" on "web"
    Then the request is refused with error 431

    Examples:
      | operation              |
      | take a snapshot        |
      | take a memory snapshot |
      | revert to A          |
      | delete A             |
      | delete all snapshots   |
      | start the VM           |

  Scenario: Destroying one VM leaves another VM's snapshots alone
    Given a running VM "web"
    And a running VM "db"
    And a snapshot "W" of "web" with memory on
    And a snapshot "D" of "db" with memory on
    When I destroy "web" with expunge off
    Then the snapshots of "db" are "D"
    And the host's checkpoint tree of "db" is "D*"

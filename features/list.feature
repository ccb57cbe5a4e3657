@list
Feature: List VM snapshots
  As a cloud user or administrator
  I want to find snapshots by VM, id, name, state, account, domain and keyword
  So that I can see what each VM can go back to

  Spec: "Can list with commonly used parameters, like vmId, account, domainId, state..etc;
  support query by keyword." Deleted snapshots are never listed; the newest comes first.

  Background:
    Given a domain "sales"
    And an account "alice" in domain "sales"
    And an account "bob"
    And a running VM "one" owned by "alice"
    And a running VM "two" owned by "bob"
    And "alice" took a snapshot "alpha" of "one" described as "nightly build"
    And "alice" took a snapshot "beta" of "one" described as "before upgrade"
    And "bob" took a snapshot "gamma 100%_done" of "two" described as "weekly"

  Scenario Outline: As <caller>, filter by <filter> "<value>"
    Given I act as "<caller>"
    When I list snapshots with <filter> "<value>"
    Then the listing is "<names>"

    Examples:
      | caller | filter  | value           | names                         |
      | admin  | vm      | one             | beta, alpha                   |
      | admin  | vm      | two             | gamma 100%_done               |
      | admin  | id      | alpha           | alpha                         |
      | admin  | name    | gamma 100%_done | gamma 100%_done               |
      | admin  | name    | gamma           |                               |
      | admin  | keyword | nightly         | alpha                         |
      | admin  | keyword | upgrade         | beta                          |
      | admin  | keyword | 100%_           | gamma 100%_done               |
      | admin  | keyword | %               | gamma 100%_done               |
      | admin  | keyword | a               | gamma 100%_done, beta, alpha  |
      | admin  | state   | Ready           | gamma 100%_done, beta, alpha  |
      | admin  | state   | Error           |                               |
      | admin  | account | alice           | beta, alpha                   |
      | admin  | domain  | sales           | beta, alpha                   |
      | alice  | vm      | one             | beta, alpha                   |
      | alice  | vm      | two             |                               |
      | bob    | keyword | a               | gamma 100%_done               |
      | bob    | id      | alpha           |                               |

  Scenario: Everything the caller may see, newest first
    Given I act as "admin"
    When I list all snapshots
    Then the listing is "gamma 100%_done, beta, alpha"

  Scenario Outline: Pages of <size>, page <page>
    Given I act as "admin"
    When I list page <page> of size <size>
    Then the listing has <count> snapshots of 3 in all

    Examples:
      | page | size | count |
      | 1    | 2    | 2     |
      | 2    | 2    | 1     |
      | 3    | 2    | 0     |
      | 1    | 5    | 3     |

  Scenario Outline: Bad list parameters are refused (<why>)
    Given I act as "<caller>"
    When I try to list snapshots with <filter> "<value>"
    Then the request is refused with error <code>

    Examples:
      | why                       | caller | filter  | value | code |
      | unknown state             | admin  | state   | Bogus | 431  |
      | another account's listing | bob    | account | alice | 531  |
      | unknown domain            | admin  | domain  | nope  | 431  |

  Scenario: A deleted snapshot is not listed
    Given I act as "alice"
    And the snapshot "alpha" is deleted
    When I list snapshots with vm "one"
    Then the listing is "beta"

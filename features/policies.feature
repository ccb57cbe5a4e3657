@policy
Feature: Recurring VM snapshot policies, retention and limits
  As a cloud user on Hyper-V
  I want my VMs snapshotted on a schedule, keeping only the newest scheduled snapshots
  And as an administrator I want to cap how many VM snapshots an account or domain stores

  Spec, "Use cases": recurring policies hourly, daily, weekly or monthly, one per VM; each
  keeps a number of scheduled snapshots no higher than the administrator's global limit, and
  deletes older ones; manual snapshots are never counted or deleted. "Admin can place a limit
  on the number of stored snapshots per user." Time in these scenarios is the scheduler's
  clock, moved by the steps; the scheduler runs each due policy at every step.

  Scenario: Retention keeps the newest scheduled snapshots and never touches manual ones
    Given a running VM "web"
    And "web" has an HOURLY policy at "0" in "UTC" keeping 2
    And 1 snapshots of "web" with memory off
    When 4 hours pass
    Then "web" has 2 scheduled snapshots
    And "web" has 3 snapshots
    And the snapshot "web-1" is kept

  Scenario Outline: A malformed <interval> schedule "<schedule>" is refused
    Given a running VM "web"
    When I try to give "web" a <interval> policy at "<schedule>" in "<zone>" keeping 2
    Then the request is refused with error 431 saying "<says>"
    And "web" has no policy

    Examples:
      | interval | schedule | zone             | says                                  |
      | HOURLY   | 75       | UTC              | minute 75 is not between 0 and 59     |
      | DAILY    | 30       | UTC              | expected 'MM:HH'                      |
      | WEEKLY   | 0:12:9   | UTC              | day of week 9 is not between 1 and 7  |
      | MONTHLY  | 0:0:30   | UTC              | day of month 30 is not between 1 and 28 |
      | DAILY    | 0:1      | Europe/Atlantis  | Invalid timezone                      |

  Scenario: maxsnaps above the administrator's ceiling is refused
    Given the configuration "vmsnapshot.max.daily" is "3"
    And a running VM "web"
    When I try to give "web" a DAILY policy at "0:3" in "UTC" keeping 4
    Then the request is refused with error 431 saying "maxSnaps exceeds limit: 3 for interval type: DAILY"
    And "web" has no policy

  Scenario: One policy per VM
    Given a running VM "web"
    And "web" has an HOURLY policy at "0" in "UTC" keeping 2
    When I try to give "web" a DAILY policy at "0:3" in "UTC" keeping 2
    Then the request is refused with error 431 saying "one policy per Instance"

  Scenario: Runs missed while the manager was down give one snapshot, not a burst
    Given a running VM "web"
    And "web" has an HOURLY policy at "0" in "UTC" keeping 5
    When the manager is down for 6 hours
    Then "web" has 1 scheduled snapshots
    And the scheduler reported 5 missed runs

  Scenario: An account at its VM snapshot limit is refused and nothing is created
    Given an account "alice"
    And a running VM "a1" owned by "alice"
    And the VM snapshot limit of account "alice" is 1
    And I act as "alice"
    And 1 snapshots of "a1" with memory off
    When I try to take a snapshot "extra" of "a1" with memory off
    Then the request is refused with error 535 saying "for account name=alice"
    And "a1" has 1 snapshots

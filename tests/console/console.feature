@console
Feature: The web console's VM snapshot pages
  As an operator of a Hyper-V cloud
  I want the spec's VM snapshot pages in a browser
  So that I can take, inspect, revert and delete VM snapshots without the CLI

  Spec (UI scenarios): "Will use the existing UI for VM snapshots. Add snapshot action and
  [view snapshots] in VM detail page"; the snapshots list under "Home > Instances > VM-… >
  VM Snapshots >"; the VM snapshot detail page with ID, Name, Display Name, Type,
  Description, State, IsCurrent, Parent, the account and Domain. The console is a client of
  the CloudStack API only: whatever it shows, the API answered; whatever it changes, it
  asked the API to change, as the logged-in user.

  Scenario: The instance detail page has Take VM Snapshot and View Snapshots
    Given a running instance "VM-detail-running"
    And a stopped instance "VM-detail-stopped"
    And I am logged in as "admin"
    When I search the instances for "VM-detail"
    Then the instances list shows "VM-detail-running"
    And I take a screenshot "instances"
    When I search the instances for "detail-stopped"
    Then the instances list shows only "VM-detail-stopped"
    When I open the instance "VM-detail-stopped"
    Then the breadcrumbs read "Home > Instances > VM-detail-stopped"
    And the details show "Display Name" as "VM-detail-stopped"
    And the details show "Name" as "VM-detail-stopped"
    And the details show "State" as "Stopped"
    And the details have a "Template"
    And the page links to "View Volumes" and "View Snapshots"
    And "Start" is enabled and "Stop" is disabled
    When I begin to take a VM snapshot
    Then "snapshotmemory" is disabled, saying "Memory can only be snapshotted while the instance is Running"
    And I take a screenshot "take-snapshot-stopped"
    When I cancel the dialog
    And I open the instance "VM-detail-running"
    And I stop it, confirming
    Then its state is "Stopped"
    When I start it
    Then its state is "Running"
    And I take a screenshot "instance-detail"
    When I click "View Snapshots"
    Then the breadcrumbs read "Home > Instances > VM-detail-running > VM Snapshots"

  Scenario: The instances list pages 20 at a time and counts each instance's snapshots
    Given 21 running instances named "pager-vm-NN"
    And a snapshot "only" of "pager-vm-07"
    And I am logged in as "admin"
    When I search the instances for "pager-vm"
    Then the pager reads "1–20 of 21"
    And the instances list shows "pager-vm-07" with 1 VM snapshot
    When I go to the next page
    Then the pager reads "21–21 of 21"
    And the instances list shows only "pager-vm-21"

  Scenario: VM Snapshots: take with memory, take another, revert to the first, the tree branches
    Given a running instance "VM-tree"
    And I am logged in as "admin"
    When I view the snapshots of "VM-tree"
    And I take a VM snapshot "A" with memory
    Then the snapshot "A" is "Ready" and current
    And the snapshot "A" is of type "Disk and memory"
    When I take a VM snapshot "B"
    Then the snapshot "B" is "Ready" and current
    And the snapshot "A" is not current
    When I ask to revert to "A"
    Then the confirmation says "the instance ends Running"
    And I take a screenshot "revert-confirmation"
    When I confirm
    Then the snapshot "A" is "Ready" and current
    When I take a VM snapshot "C"
    Then the parent of "B" is "A"
    And the parent of "C" is "A"
    And the tree draws "A, B, C" with 2 branches, "C" current
    And I take a screenshot "vm-snapshots-tree"
    When I ask to revert to "B"
    Then the confirmation says "disk-only snapshot"
    And the confirmation says "ends Stopped"
    When I cancel the dialog
    Then the snapshot "C" is "Ready" and current

  Scenario: The VM snapshot detail page shows the spec's fields; delete keeps the children; log out
    Given a running instance "VM-detail"
    And a snapshot "Base" of "VM-detail"
    And I am logged in as "admin"
    When I view the snapshots of "VM-detail"
    And I take a VM snapshot "Snapshot1" described as "before the upgrade"
    And another client takes a snapshot "Child" of "VM-detail"
    And I reload the page
    And I open the snapshot "Snapshot1"
    Then the breadcrumbs read "Home > Instances > VM-detail > VM Snapshots > Snapshot1"
    And the details show the API's id and name of "Snapshot1" as "ID" and "Name"
    And the details show:
      | field            | value              |
      | Display Name     | Snapshot1          |
      | Type             | Disk               |
      | Description      | before the upgrade |
      | State            | Ready              |
      | IsCurrent        | No                 |
      | Parent           | Base               |
      | Account          | admin              |
      | Domain           | ROOT               |
      | Service Offering | small              |
    And I take a screenshot "vm-snapshot-detail"
    When I ask to delete it
    Then the confirmation says "Its 1 child snapshot (Child) is kept and moves under “Base”"
    And I take a screenshot "delete-confirmation"
    When I confirm
    Then the breadcrumbs read "Home > Instances > VM-detail > VM Snapshots"
    And there is no snapshot "Snapshot1"
    And the parent of "Child" is "Base"
    And every API call was a POST with nothing in its URL
    When I log out
    Then the login form shows
    And the session key the console used is refused

  Scenario: An expired session sends the user back to the login form, saying why
    Given a running instance "VM-expiry"
    And I am logged in as "admin"
    When every console session ends on the server
    And I open the instance "VM-expiry" again
    Then the login form says "Your session ended"

  Scenario: A user sees only its own
    Given an account "alice" with password "alice-pw"
    And a running instance "alice-vm" of "alice"
    And a snapshot "alice-snap" of "alice-vm"
    And a running instance "admin-only-vm"
    And a snapshot "admin-only-snap" of "admin-only-vm"
    And I am logged in as "alice" with password "alice-pw"
    Then the instances list shows only "alice-vm"
    And the instances list has no "Account" column
    And I take a screenshot "user-instances"
    When I view the snapshots of "alice-vm"
    Then the list shows 1 snapshot
    When I follow a link to the snapshot "admin-only-snap"
    Then the page shows the refusal "Account alice does not have permission"
    And the page does not show "admin-only-snap"
    When I open the limits
    Then the limits list "alice"

  Scenario Outline: A hostile name renders as text
    Given a running instance "<vm>"
    And I am logged in as "admin"
    When I search the instances for "<vm>"
    Then the instances list shows "<vm>"
    When I view the snapshots of "<vm>"
    And I take a VM snapshot "<snap>"
    Then the list and the tree show "<snap>" as text
    And the page has no img or b element
    When I open the snapshot "<snap>"
    Then the details show "Display Name" as "<snap>"
    And the breadcrumbs end with "<snap>"
    And I take a screenshot "hostile-name"
    And the console's Content-Security-Policy forbids inline script

    Examples:
      | vm              | snap                          |
      | <b>bold-vm</b>  | <img src=x onerror=alert(1)>  |

  Scenario: Refusals show CloudStack's errortext
    Given an account "bob" with password "bob-pw"
    And a running instance "bob-vm" of "bob"
    And a snapshot "first" of "bob-vm"
    And the VM snapshot limit of "bob" is 1
    When I log in as "bob" with password "wrong"
    Then the login form says "Failed to authenticate user bob"
    And I take a screenshot "login-refused"
    When I log in as "bob" with password "bob-pw"
    And I view the snapshots of "bob-vm"
    And I try to take a VM snapshot "second"
    Then the job fails with "Maximum number of resources of type 'vmsnapshot'"
    And I take a screenshot "limit-refused"
    And the list shows 1 snapshot

  Scenario: The recurring snapshot policy is created, refused a bad edit, and deleted
    Given a running instance "VM-policy"
    And I am logged in as "admin"
    When I open the instance "VM-policy"
    And I create an hourly policy at minute "15" keeping "6"
    Then the policy shows "Interval" as "HOURLY"
    When I change the policy's schedule to "99"
    Then the page shows the refusal "Invalid schedule"
    And the policy shows "Schedule" as "15"
    And I take a screenshot "policy"
    When I delete the policy, confirming
    Then the instance has no policy

  Scenario: Take VM Snapshot is disabled, with the reason, where the rules refuse
    Given a running instance "VM-rules"
    And I am logged in as "admin"
    When the admin disables VM snapshots for Hyper-V
    And I view the snapshots of "VM-rules"
    Then taking a VM snapshot is disabled, saying "VM snapshots are disabled for Hyperv"
    And I take a screenshot "take-snapshot-disabled"
    When the admin enables VM snapshots for Hyper-V
    And I reload the page
    Then taking a VM snapshot is enabled

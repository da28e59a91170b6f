// Command slipway-k8s is the local Kubernetes control plane used by Slipway's tests and demo.
//
// One binary with a subcommand per component keeps the build (and its cache) single, while each
// component still runs as its own process: component-base installs a signal handler that panics if
// set up twice in one process.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubectl "k8s.io/kubectl/pkg/cmd"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: slipway-k8s etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubectl [flags]")
		os.Exit(1)
	}
	component := os.Args[1]
	os.Args = append([]string{component}, os.Args[2:]...)
	var command *cobra.Command
	switch component {
	case "etcd":
		os.Exit(runEtcd(os.Args[1:]))
	case "kube-apiserver":
		command = apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		command = controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		command = scheduler.NewSchedulerCommand()
	case "kubectl":
		command = kubectl.NewDefaultKubectlCommand()
		os.Exit(runNoErr(command))
	default:
		fmt.Fprintf(os.Stderr, "slipway-k8s: unknown component %q\n", component)
		os.Exit(1)
	}
	os.Exit(cli.Run(command))
}

// kubectl prints its own errors; cli.Run would print them twice.
func runNoErr(command *cobra.Command) int {
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlCheckErr(err)
		return 1
	}
	return 0
}

// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// ISignatureTransferPermitTransferFrom is an auto generated low-level Go binding around an user-defined struct.
type ISignatureTransferPermitTransferFrom struct {
	Permitted ISignatureTransferTokenPermissions
	Nonce     *big.Int
	Deadline  *big.Int
}

// ISignatureTransferTokenPermissions is an auto generated low-level Go binding around an user-defined struct.
type ISignatureTransferTokenPermissions struct {
	Token  common.Address
	Amount *big.Int
}

// TestUptoProxyEIP2612Permit is an auto generated low-level Go binding around an user-defined struct.
type TestUptoProxyEIP2612Permit struct {
	Value    *big.Int
	Deadline *big.Int
	R        [32]byte
	S        [32]byte
	V        uint8
}

// TestUptoProxyWitness is an auto generated low-level Go binding around an user-defined struct.
type TestUptoProxyWitness struct {
	To          common.Address
	Facilitator common.Address
	ValidAfter  *big.Int
}

// TestUptoProxyMetaData contains all meta data concerning the TestUptoProxy contract.
var TestUptoProxyMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"AmountExceedsPermitted\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidAmount\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidDestination\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidOwner\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidPermit2Address\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"PaymentTooEarly\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Permit2612AmountMismatch\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ReentrancyGuardReentrantCall\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"UnauthorizedFacilitator\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes\",\"name\":\"reason\",\"type\":\"bytes\"}],\"name\":\"EIP2612PermitFailed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[],\"name\":\"Settled\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[],\"name\":\"SettledWithPermit\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"PERMIT2\",\"outputs\":[{\"internalType\":\"contractISignatureTransfer\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"WITNESS_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"WITNESS_TYPE_STRING\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structISignatureTransfer.TokenPermissions\",\"name\":\"permitted\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structISignatureTransfer.PermitTransferFrom\",\"name\":\"permit\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"facilitator\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"validAfter\",\"type\":\"uint256\"}],\"internalType\":\"structTestUptoProxy.Witness\",\"name\":\"witness\",\"type\":\"tuple\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"settle\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"r\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"s\",\"type\":\"bytes32\"},{\"internalType\":\"uint8\",\"name\":\"v\",\"type\":\"uint8\"}],\"internalType\":\"structTestUptoProxy.EIP2612Permit\",\"name\":\"permit2612\",\"type\":\"tuple\"},{\"components\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structISignatureTransfer.TokenPermissions\",\"name\":\"permitted\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structISignatureTransfer.PermitTransferFrom\",\"name\":\"permit\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"facilitator\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"validAfter\",\"type\":\"uint256\"}],\"internalType\":\"structTestUptoProxy.Witness\",\"name\":\"witness\",\"type\":\"tuple\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"settleWithPermit\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b506109898061001c5f395ff3fe608060405234801561000f575f5ffd5b5060043610610055575f3560e01c8063016c174814610059578063156e21521461006e5780632c03ae6a1461008c5780636afdd850146100c1578063ff11e7b4146100ef575b5f5ffd5b61006c61006736600461067e565b610102565b005b610076610315565b6040516100839190610744565b60405180910390f35b6100b37fd4171c445a74218b01d4fd8af34ff1106580ea1e36ff837e64484bfaa2253b7581565b604051908152602001610083565b6100d76e22d473030f116ddee9f6b43ac78ba381565b6040516001600160a01b039091168152602001610083565b61006c6100fd36600461075d565b610331565b60ff5f5c161561012557604051633ee5aeb560e01b815260040160405180910390fd5b60015f805c60ff19168217905d5060208601358511156101585760405163fe64b4c760e01b815260040160405180910390fd5b863560208701351461017d5760405163050cda4960e01b815260040160405180910390fd5b61018a60208701876107db565b6001600160a01b031663d505accf856e22d473030f116ddee9f6b43ac78ba38a3560208c01356101c060a08e0160808f016107f4565b604080516001600160e01b031960e089901b1681526001600160a01b0396871660048201529590941660248601526044850192909252606484015260ff1660848301528a013560a482015260608a013560c482015260e4015f604051808303815f87803b15801561022f575f5ffd5b505af1925050508015610240575060015b6102cc573d80801561026d576040519150601f19603f3d011682016040523d82523d5f602084013e610272565b606091505b506001600160a01b03851661028a60208901896107db565b6001600160a01b03167f212267cedf25cda686d00a0424a997b3498c71bf05686acf75f1d05ab6b47507836040516102c29190610744565b60405180910390a3505b6102da8686868686866103cf565b6040517fde5b89d10fc800c459329c382fabfcad0be0ed7e5328e01fae04e507b09ef5d8905f90a15f60ff19815c16815d5050505050505050565b6040518060a00160405280607881526020016108dc6078913981565b60ff5f5c161561035457604051633ee5aeb560e01b815260040160405180910390fd5b60015f805c60ff19168217905d5060208601358511156103875760405163fe64b4c760e01b815260040160405180910390fd5b6103958686868686866103cf565b6040517f97088ec3606cfe8cc112180570d03fcde05f9b8e1bfef8e27784eaf5dd5691b6905f90a15f60ff19815c16815d50505050505050565b845f036103ef5760405163162908e360e11b815260040160405180910390fd5b6001600160a01b038416610416576040516349e27cff60e01b815260040160405180910390fd5b5f61042460208501856107db565b6001600160a01b03160361044b5760405163ac6b05f560e01b815260040160405180910390fd5b61045b60408401602085016107db565b6001600160a01b0316336001600160a01b03161461048c57604051630f6fae8760e01b815260040160405180910390fd5b82604001354210156104b15760405163532a9cfd60e11b815260040160405180910390fd5b5f7fd4171c445a74218b01d4fd8af34ff1106580ea1e36ff837e64484bfaa2253b756104e060208601866107db565b6104f060408701602088016107db565b6040805160208101949094526001600160a01b039283168482015291166060830152850135608082015260a0016040516020818303038152906040528051906020012090506e22d473030f116ddee9f6b43ac78ba36001600160a01b031663137c29fe886040518060400160405280885f01602081019061057191906107db565b6001600160a01b031681526020018a81525088856040518060a00160405280607881526020016108dc6078913989896040518863ffffffff1660e01b81526004016105c2979695949392919061083c565b5f604051808303815f87803b1580156105d9575f5ffd5b505af11580156105eb573d5f5f3e3d5ffd5b5050505050505050505050565b5f60808284031215610608575f5ffd5b50919050565b80356001600160a01b0381168114610624575f5ffd5b919050565b5f60608284031215610608575f5ffd5b5f5f83601f840112610649575f5ffd5b50813567ffffffffffffffff811115610660575f5ffd5b602083019150836020828501011115610677575f5ffd5b9250929050565b5f5f5f5f5f5f5f8789036101e0811215610696575f5ffd5b60a08112156106a3575f5ffd5b508796506106b48960a08a016105f8565b955061012088013594506106cb610140890161060e565b93506106db896101608a01610629565b92506101c088013567ffffffffffffffff8111156106f7575f5ffd5b6107038a828b01610639565b989b979a50959850939692959293505050565b5f81518084528060208401602086015e5f602082860101526020601f19601f83011685010191505092915050565b602081525f6107566020830184610716565b9392505050565b5f5f5f5f5f5f6101408789031215610773575f5ffd5b61077d88886105f8565b95506080870135945061079260a0880161060e565b93506107a18860c08901610629565b925061012087013567ffffffffffffffff8111156107bd575f5ffd5b6107c989828a01610639565b979a9699509497509295939492505050565b5f602082840312156107eb575f5ffd5b6107568261060e565b5f60208284031215610804575f5ffd5b813560ff81168114610756575f5ffd5b81835281816020850137505f828201602090810191909152601f909101601f19169091010190565b6001600160a01b0361084d8961060e565b168152602088810135818301526040808a0135908301526060808a01359083015287516001600160a01b0316608083015287015160a08201525f61089c60c08301886001600160a01b03169052565b8560e08301526101406101008301526108b9610140830186610716565b8281036101208401526108cd818587610814565b9a995050505050505050505056fe5769746e657373207769746e65737329546f6b656e5065726d697373696f6e73286164647265737320746f6b656e2c75696e7432353620616d6f756e74295769746e657373286164647265737320746f2c6164647265737320666163696c697461746f722c75696e743235362076616c6964416674657229a264697066735822122004fd2739eeaeb554a8f2c4ef5f2aba1a705f24dd4dc3bcfea690b08c0bed9c3f64736f6c63430008250033",
}

// TestUptoProxyABI is the input ABI used to generate the binding from.
// Deprecated: Use TestUptoProxyMetaData.ABI instead.
var TestUptoProxyABI = TestUptoProxyMetaData.ABI

// TestUptoProxyBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use TestUptoProxyMetaData.Bin instead.
var TestUptoProxyBin = TestUptoProxyMetaData.Bin

// DeployTestUptoProxy deploys a new Ethereum contract, binding an instance of TestUptoProxy to it.
func DeployTestUptoProxy(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *TestUptoProxy, error) {
	parsed, err := TestUptoProxyMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(TestUptoProxyBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &TestUptoProxy{TestUptoProxyCaller: TestUptoProxyCaller{contract: contract}, TestUptoProxyTransactor: TestUptoProxyTransactor{contract: contract}, TestUptoProxyFilterer: TestUptoProxyFilterer{contract: contract}}, nil
}

// TestUptoProxy is an auto generated Go binding around an Ethereum contract.
type TestUptoProxy struct {
	TestUptoProxyCaller     // Read-only binding to the contract
	TestUptoProxyTransactor // Write-only binding to the contract
	TestUptoProxyFilterer   // Log filterer for contract events
}

// TestUptoProxyCaller is an auto generated read-only Go binding around an Ethereum contract.
type TestUptoProxyCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestUptoProxyTransactor is an auto generated write-only Go binding around an Ethereum contract.
type TestUptoProxyTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestUptoProxyFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type TestUptoProxyFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestUptoProxySession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type TestUptoProxySession struct {
	Contract     *TestUptoProxy    // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// TestUptoProxyCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type TestUptoProxyCallerSession struct {
	Contract *TestUptoProxyCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts        // Call options to use throughout this session
}

// TestUptoProxyTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type TestUptoProxyTransactorSession struct {
	Contract     *TestUptoProxyTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts        // Transaction auth options to use throughout this session
}

// TestUptoProxyRaw is an auto generated low-level Go binding around an Ethereum contract.
type TestUptoProxyRaw struct {
	Contract *TestUptoProxy // Generic contract binding to access the raw methods on
}

// TestUptoProxyCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type TestUptoProxyCallerRaw struct {
	Contract *TestUptoProxyCaller // Generic read-only contract binding to access the raw methods on
}

// TestUptoProxyTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type TestUptoProxyTransactorRaw struct {
	Contract *TestUptoProxyTransactor // Generic write-only contract binding to access the raw methods on
}

// NewTestUptoProxy creates a new instance of TestUptoProxy, bound to a specific deployed contract.
func NewTestUptoProxy(address common.Address, backend bind.ContractBackend) (*TestUptoProxy, error) {
	contract, err := bindTestUptoProxy(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &TestUptoProxy{TestUptoProxyCaller: TestUptoProxyCaller{contract: contract}, TestUptoProxyTransactor: TestUptoProxyTransactor{contract: contract}, TestUptoProxyFilterer: TestUptoProxyFilterer{contract: contract}}, nil
}

// NewTestUptoProxyCaller creates a new read-only instance of TestUptoProxy, bound to a specific deployed contract.
func NewTestUptoProxyCaller(address common.Address, caller bind.ContractCaller) (*TestUptoProxyCaller, error) {
	contract, err := bindTestUptoProxy(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &TestUptoProxyCaller{contract: contract}, nil
}

// NewTestUptoProxyTransactor creates a new write-only instance of TestUptoProxy, bound to a specific deployed contract.
func NewTestUptoProxyTransactor(address common.Address, transactor bind.ContractTransactor) (*TestUptoProxyTransactor, error) {
	contract, err := bindTestUptoProxy(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &TestUptoProxyTransactor{contract: contract}, nil
}

// NewTestUptoProxyFilterer creates a new log filterer instance of TestUptoProxy, bound to a specific deployed contract.
func NewTestUptoProxyFilterer(address common.Address, filterer bind.ContractFilterer) (*TestUptoProxyFilterer, error) {
	contract, err := bindTestUptoProxy(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &TestUptoProxyFilterer{contract: contract}, nil
}

// bindTestUptoProxy binds a generic wrapper to an already deployed contract.
func bindTestUptoProxy(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := TestUptoProxyMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestUptoProxy *TestUptoProxyRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestUptoProxy.Contract.TestUptoProxyCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestUptoProxy *TestUptoProxyRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.TestUptoProxyTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestUptoProxy *TestUptoProxyRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.TestUptoProxyTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestUptoProxy *TestUptoProxyCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestUptoProxy.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestUptoProxy *TestUptoProxyTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestUptoProxy *TestUptoProxyTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.contract.Transact(opts, method, params...)
}

// PERMIT2 is a free data retrieval call binding the contract method 0x6afdd850.
//
// Solidity: function PERMIT2() view returns(address)
func (_TestUptoProxy *TestUptoProxyCaller) PERMIT2(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _TestUptoProxy.contract.Call(opts, &out, "PERMIT2")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// PERMIT2 is a free data retrieval call binding the contract method 0x6afdd850.
//
// Solidity: function PERMIT2() view returns(address)
func (_TestUptoProxy *TestUptoProxySession) PERMIT2() (common.Address, error) {
	return _TestUptoProxy.Contract.PERMIT2(&_TestUptoProxy.CallOpts)
}

// PERMIT2 is a free data retrieval call binding the contract method 0x6afdd850.
//
// Solidity: function PERMIT2() view returns(address)
func (_TestUptoProxy *TestUptoProxyCallerSession) PERMIT2() (common.Address, error) {
	return _TestUptoProxy.Contract.PERMIT2(&_TestUptoProxy.CallOpts)
}

// WITNESSTYPEHASH is a free data retrieval call binding the contract method 0x2c03ae6a.
//
// Solidity: function WITNESS_TYPEHASH() view returns(bytes32)
func (_TestUptoProxy *TestUptoProxyCaller) WITNESSTYPEHASH(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _TestUptoProxy.contract.Call(opts, &out, "WITNESS_TYPEHASH")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// WITNESSTYPEHASH is a free data retrieval call binding the contract method 0x2c03ae6a.
//
// Solidity: function WITNESS_TYPEHASH() view returns(bytes32)
func (_TestUptoProxy *TestUptoProxySession) WITNESSTYPEHASH() ([32]byte, error) {
	return _TestUptoProxy.Contract.WITNESSTYPEHASH(&_TestUptoProxy.CallOpts)
}

// WITNESSTYPEHASH is a free data retrieval call binding the contract method 0x2c03ae6a.
//
// Solidity: function WITNESS_TYPEHASH() view returns(bytes32)
func (_TestUptoProxy *TestUptoProxyCallerSession) WITNESSTYPEHASH() ([32]byte, error) {
	return _TestUptoProxy.Contract.WITNESSTYPEHASH(&_TestUptoProxy.CallOpts)
}

// WITNESSTYPESTRING is a free data retrieval call binding the contract method 0x156e2152.
//
// Solidity: function WITNESS_TYPE_STRING() view returns(string)
func (_TestUptoProxy *TestUptoProxyCaller) WITNESSTYPESTRING(opts *bind.CallOpts) (string, error) {
	var out []interface{}
	err := _TestUptoProxy.contract.Call(opts, &out, "WITNESS_TYPE_STRING")

	if err != nil {
		return *new(string), err
	}

	out0 := *abi.ConvertType(out[0], new(string)).(*string)

	return out0, err

}

// WITNESSTYPESTRING is a free data retrieval call binding the contract method 0x156e2152.
//
// Solidity: function WITNESS_TYPE_STRING() view returns(string)
func (_TestUptoProxy *TestUptoProxySession) WITNESSTYPESTRING() (string, error) {
	return _TestUptoProxy.Contract.WITNESSTYPESTRING(&_TestUptoProxy.CallOpts)
}

// WITNESSTYPESTRING is a free data retrieval call binding the contract method 0x156e2152.
//
// Solidity: function WITNESS_TYPE_STRING() view returns(string)
func (_TestUptoProxy *TestUptoProxyCallerSession) WITNESSTYPESTRING() (string, error) {
	return _TestUptoProxy.Contract.WITNESSTYPESTRING(&_TestUptoProxy.CallOpts)
}

// Settle is a paid mutator transaction binding the contract method 0xff11e7b4.
//
// Solidity: function settle(((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxyTransactor) Settle(opts *bind.TransactOpts, permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.contract.Transact(opts, "settle", permit, amount, owner, witness, signature)
}

// Settle is a paid mutator transaction binding the contract method 0xff11e7b4.
//
// Solidity: function settle(((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxySession) Settle(permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.Settle(&_TestUptoProxy.TransactOpts, permit, amount, owner, witness, signature)
}

// Settle is a paid mutator transaction binding the contract method 0xff11e7b4.
//
// Solidity: function settle(((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxyTransactorSession) Settle(permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.Settle(&_TestUptoProxy.TransactOpts, permit, amount, owner, witness, signature)
}

// SettleWithPermit is a paid mutator transaction binding the contract method 0x016c1748.
//
// Solidity: function settleWithPermit((uint256,uint256,bytes32,bytes32,uint8) permit2612, ((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxyTransactor) SettleWithPermit(opts *bind.TransactOpts, permit2612 TestUptoProxyEIP2612Permit, permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.contract.Transact(opts, "settleWithPermit", permit2612, permit, amount, owner, witness, signature)
}

// SettleWithPermit is a paid mutator transaction binding the contract method 0x016c1748.
//
// Solidity: function settleWithPermit((uint256,uint256,bytes32,bytes32,uint8) permit2612, ((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxySession) SettleWithPermit(permit2612 TestUptoProxyEIP2612Permit, permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.SettleWithPermit(&_TestUptoProxy.TransactOpts, permit2612, permit, amount, owner, witness, signature)
}

// SettleWithPermit is a paid mutator transaction binding the contract method 0x016c1748.
//
// Solidity: function settleWithPermit((uint256,uint256,bytes32,bytes32,uint8) permit2612, ((address,uint256),uint256,uint256) permit, uint256 amount, address owner, (address,address,uint256) witness, bytes signature) returns()
func (_TestUptoProxy *TestUptoProxyTransactorSession) SettleWithPermit(permit2612 TestUptoProxyEIP2612Permit, permit ISignatureTransferPermitTransferFrom, amount *big.Int, owner common.Address, witness TestUptoProxyWitness, signature []byte) (*types.Transaction, error) {
	return _TestUptoProxy.Contract.SettleWithPermit(&_TestUptoProxy.TransactOpts, permit2612, permit, amount, owner, witness, signature)
}

// TestUptoProxyEIP2612PermitFailedIterator is returned from FilterEIP2612PermitFailed and is used to iterate over the raw logs and unpacked data for EIP2612PermitFailed events raised by the TestUptoProxy contract.
type TestUptoProxyEIP2612PermitFailedIterator struct {
	Event *TestUptoProxyEIP2612PermitFailed // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TestUptoProxyEIP2612PermitFailedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TestUptoProxyEIP2612PermitFailed)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TestUptoProxyEIP2612PermitFailed)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TestUptoProxyEIP2612PermitFailedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TestUptoProxyEIP2612PermitFailedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TestUptoProxyEIP2612PermitFailed represents a EIP2612PermitFailed event raised by the TestUptoProxy contract.
type TestUptoProxyEIP2612PermitFailed struct {
	Token  common.Address
	Owner  common.Address
	Reason []byte
	Raw    types.Log // Blockchain specific contextual infos
}

// FilterEIP2612PermitFailed is a free log retrieval operation binding the contract event 0x212267cedf25cda686d00a0424a997b3498c71bf05686acf75f1d05ab6b47507.
//
// Solidity: event EIP2612PermitFailed(address indexed token, address indexed owner, bytes reason)
func (_TestUptoProxy *TestUptoProxyFilterer) FilterEIP2612PermitFailed(opts *bind.FilterOpts, token []common.Address, owner []common.Address) (*TestUptoProxyEIP2612PermitFailedIterator, error) {

	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}
	var ownerRule []interface{}
	for _, ownerItem := range owner {
		ownerRule = append(ownerRule, ownerItem)
	}

	logs, sub, err := _TestUptoProxy.contract.FilterLogs(opts, "EIP2612PermitFailed", tokenRule, ownerRule)
	if err != nil {
		return nil, err
	}
	return &TestUptoProxyEIP2612PermitFailedIterator{contract: _TestUptoProxy.contract, event: "EIP2612PermitFailed", logs: logs, sub: sub}, nil
}

// WatchEIP2612PermitFailed is a free log subscription operation binding the contract event 0x212267cedf25cda686d00a0424a997b3498c71bf05686acf75f1d05ab6b47507.
//
// Solidity: event EIP2612PermitFailed(address indexed token, address indexed owner, bytes reason)
func (_TestUptoProxy *TestUptoProxyFilterer) WatchEIP2612PermitFailed(opts *bind.WatchOpts, sink chan<- *TestUptoProxyEIP2612PermitFailed, token []common.Address, owner []common.Address) (event.Subscription, error) {

	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}
	var ownerRule []interface{}
	for _, ownerItem := range owner {
		ownerRule = append(ownerRule, ownerItem)
	}

	logs, sub, err := _TestUptoProxy.contract.WatchLogs(opts, "EIP2612PermitFailed", tokenRule, ownerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TestUptoProxyEIP2612PermitFailed)
				if err := _TestUptoProxy.contract.UnpackLog(event, "EIP2612PermitFailed", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseEIP2612PermitFailed is a log parse operation binding the contract event 0x212267cedf25cda686d00a0424a997b3498c71bf05686acf75f1d05ab6b47507.
//
// Solidity: event EIP2612PermitFailed(address indexed token, address indexed owner, bytes reason)
func (_TestUptoProxy *TestUptoProxyFilterer) ParseEIP2612PermitFailed(log types.Log) (*TestUptoProxyEIP2612PermitFailed, error) {
	event := new(TestUptoProxyEIP2612PermitFailed)
	if err := _TestUptoProxy.contract.UnpackLog(event, "EIP2612PermitFailed", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TestUptoProxySettledIterator is returned from FilterSettled and is used to iterate over the raw logs and unpacked data for Settled events raised by the TestUptoProxy contract.
type TestUptoProxySettledIterator struct {
	Event *TestUptoProxySettled // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TestUptoProxySettledIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TestUptoProxySettled)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TestUptoProxySettled)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TestUptoProxySettledIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TestUptoProxySettledIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TestUptoProxySettled represents a Settled event raised by the TestUptoProxy contract.
type TestUptoProxySettled struct {
	Raw types.Log // Blockchain specific contextual infos
}

// FilterSettled is a free log retrieval operation binding the contract event 0x97088ec3606cfe8cc112180570d03fcde05f9b8e1bfef8e27784eaf5dd5691b6.
//
// Solidity: event Settled()
func (_TestUptoProxy *TestUptoProxyFilterer) FilterSettled(opts *bind.FilterOpts) (*TestUptoProxySettledIterator, error) {

	logs, sub, err := _TestUptoProxy.contract.FilterLogs(opts, "Settled")
	if err != nil {
		return nil, err
	}
	return &TestUptoProxySettledIterator{contract: _TestUptoProxy.contract, event: "Settled", logs: logs, sub: sub}, nil
}

// WatchSettled is a free log subscription operation binding the contract event 0x97088ec3606cfe8cc112180570d03fcde05f9b8e1bfef8e27784eaf5dd5691b6.
//
// Solidity: event Settled()
func (_TestUptoProxy *TestUptoProxyFilterer) WatchSettled(opts *bind.WatchOpts, sink chan<- *TestUptoProxySettled) (event.Subscription, error) {

	logs, sub, err := _TestUptoProxy.contract.WatchLogs(opts, "Settled")
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TestUptoProxySettled)
				if err := _TestUptoProxy.contract.UnpackLog(event, "Settled", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseSettled is a log parse operation binding the contract event 0x97088ec3606cfe8cc112180570d03fcde05f9b8e1bfef8e27784eaf5dd5691b6.
//
// Solidity: event Settled()
func (_TestUptoProxy *TestUptoProxyFilterer) ParseSettled(log types.Log) (*TestUptoProxySettled, error) {
	event := new(TestUptoProxySettled)
	if err := _TestUptoProxy.contract.UnpackLog(event, "Settled", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TestUptoProxySettledWithPermitIterator is returned from FilterSettledWithPermit and is used to iterate over the raw logs and unpacked data for SettledWithPermit events raised by the TestUptoProxy contract.
type TestUptoProxySettledWithPermitIterator struct {
	Event *TestUptoProxySettledWithPermit // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TestUptoProxySettledWithPermitIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TestUptoProxySettledWithPermit)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TestUptoProxySettledWithPermit)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TestUptoProxySettledWithPermitIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TestUptoProxySettledWithPermitIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TestUptoProxySettledWithPermit represents a SettledWithPermit event raised by the TestUptoProxy contract.
type TestUptoProxySettledWithPermit struct {
	Raw types.Log // Blockchain specific contextual infos
}

// FilterSettledWithPermit is a free log retrieval operation binding the contract event 0xde5b89d10fc800c459329c382fabfcad0be0ed7e5328e01fae04e507b09ef5d8.
//
// Solidity: event SettledWithPermit()
func (_TestUptoProxy *TestUptoProxyFilterer) FilterSettledWithPermit(opts *bind.FilterOpts) (*TestUptoProxySettledWithPermitIterator, error) {

	logs, sub, err := _TestUptoProxy.contract.FilterLogs(opts, "SettledWithPermit")
	if err != nil {
		return nil, err
	}
	return &TestUptoProxySettledWithPermitIterator{contract: _TestUptoProxy.contract, event: "SettledWithPermit", logs: logs, sub: sub}, nil
}

// WatchSettledWithPermit is a free log subscription operation binding the contract event 0xde5b89d10fc800c459329c382fabfcad0be0ed7e5328e01fae04e507b09ef5d8.
//
// Solidity: event SettledWithPermit()
func (_TestUptoProxy *TestUptoProxyFilterer) WatchSettledWithPermit(opts *bind.WatchOpts, sink chan<- *TestUptoProxySettledWithPermit) (event.Subscription, error) {

	logs, sub, err := _TestUptoProxy.contract.WatchLogs(opts, "SettledWithPermit")
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TestUptoProxySettledWithPermit)
				if err := _TestUptoProxy.contract.UnpackLog(event, "SettledWithPermit", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseSettledWithPermit is a log parse operation binding the contract event 0xde5b89d10fc800c459329c382fabfcad0be0ed7e5328e01fae04e507b09ef5d8.
//
// Solidity: event SettledWithPermit()
func (_TestUptoProxy *TestUptoProxyFilterer) ParseSettledWithPermit(log types.Log) (*TestUptoProxySettledWithPermit, error) {
	event := new(TestUptoProxySettledWithPermit)
	if err := _TestUptoProxy.contract.UnpackLog(event, "SettledWithPermit", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
